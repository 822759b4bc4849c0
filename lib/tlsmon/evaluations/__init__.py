"""Evaluations: observations + thresholds + an explicit ``now`` -> states (nagiosplugin)."""

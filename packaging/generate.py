#!/usr/bin/env python3
"""Write the monitoring-engine definitions of every plugin from the plugins' own option parsers.

    python3 packaging/generate.py           # rewrite the generated files below
    python3 packaging/generate.py --check   # exit 1 if one differs from what the parsers say

icinga2/tlsmon.conf: one CheckCommand per plugin with every option (flags by ``set_if``,
repeatable options with ``repeat_key``); nagios/tlsmon-commands.cfg: command definitions;
scom/*.mpx: one monitor per plugin (between the BEGIN/END generated markers; the rest of
those files is written by hand). A new plugin is one line in PLUGINS. Run it
from a checkout (it puts ../lib first on sys.path) with the plugin's dependencies installed.
Not part of the installed package.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


@dataclass(frozen=True)
class Plugin:
    """A plugin script in plugins/ whose options come from ``tlsmon.cli.<name>.parse``.

    Attributes:
        name: the script's name.
        summary: what it checks, for comments and SCOM display strings.
        sample: options of the sample SCOM monitors (operators override them).
        host: takes -H: the engines pass the monitored host's address by default.
    """

    name: str
    summary: str
    sample: str
    host: bool = True


PLUGINS = (
    Plugin("check_tls_cert", "certificate chain of a TLS endpoint or a certificate file",
           "-H www.example.test -w 30 -c 14"),
    Plugin("check_tls_handshake", "TLS handshake health, protocol versions and cipher policy",
           "-H www.example.test --require-no-tls1 --require-no-tls1_1"),
    Plugin("check_tls_clientauth", "client-certificate requests and mutual TLS",
           "-u https://www.example.test/secure/ --require-client-cert"),
    Plugin("check_tls_capture", "handshakes seen passively in capture files, a capture ring, stdin or an interface",
           "--ring /var/spool/tls --state /var/lib/tlsmon/tls.state --failures-critical 10%", host=False),
)

ICINGA_FILE = HERE / "icinga2" / "tlsmon.conf"
NAGIOS_FILE = HERE / "nagios" / "tlsmon-commands.cfg"
SCOM_UNIX_FILE = HERE / "scom" / "Tlsmon.Unix.Monitors.mpx"
SCOM_WINDOWS_FILE = HERE / "scom" / "Tlsmon.Windows.Monitors.mpx"
PLUGIN_DIR = "/usr/lib/nagios/plugins"

# Options without a long form get a variable name here.
_SHORT_NAMES = {"-4": "ipv4", "-6": "ipv6"}
# Options whose value is optional (nargs="?") get a second, value-less flag: <var>_<suffix>.
_NO_VALUE_SUFFIX = {"--require-client-cert": "any", "--maximum-validity": "default"}


class _Parser(Exception):
    def __init__(self, parser: argparse.ArgumentParser) -> None:
        super().__init__(parser.prog)
        self.parser = parser


def plugin_parser(name: str) -> argparse.ArgumentParser:
    """The ArgumentParser that ``tlsmon.cli.<name>.parse`` builds, caught before it parses."""
    from tlsmon.cli import options

    module = importlib.import_module(f"tlsmon.cli.{name}")

    def catch(self: argparse.ArgumentParser, *args: Any, **kwargs: Any) -> Any:
        raise _Parser(self)

    saved = options.PluginParser.parse_args
    options.PluginParser.parse_args = catch
    try:
        module.parse([])
    except _Parser as caught:
        return caught.parser
    finally:
        options.PluginParser.parse_args = saved
    raise RuntimeError(f"tlsmon.cli.{name}.parse() built no PluginParser")


@dataclass(frozen=True)
class Option:
    key: str  # as passed: --warning, -4
    var: str  # without the plugin prefix: warning, ipv4
    flag: bool  # no value: set_if
    repeat: bool  # repeatable: an array with repeat_key
    optional_value: bool  # nargs="?"
    help: str
    choices: tuple[str, ...]
    positional: bool = False


def plugin_options(parser: argparse.ArgumentParser) -> list[Option]:
    formatter = parser._get_formatter()
    out = []
    for action in parser._actions:
        if isinstance(action, (argparse._HelpAction, argparse._VersionAction)) or action.help == argparse.SUPPRESS:
            continue
        longs = [o for o in action.option_strings if o.startswith("--")]
        positional_name = str(action.metavar or action.dest)  # FILE: the name usage shows
        key = longs[0] if longs else (action.option_strings[0] if action.option_strings else positional_name)
        var = _SHORT_NAMES.get(key) or key.lstrip("-")
        var = "".join(c if c.isalnum() else "_" for c in var).lower()
        help_text = " ".join(formatter._expand_help(action).split()) if action.help else ""
        out.append(Option(
            key=key,
            var=var,
            flag=action.nargs == 0,
            repeat=isinstance(action, (argparse._AppendAction, argparse._ExtendAction))
            or (not action.option_strings and action.nargs in ("+", "*")),
            optional_value=action.nargs == "?",
            help=help_text,
            choices=tuple(str(c) for c in action.choices or ()),
            positional=not action.option_strings,
        ))
    return out


def icinga_vars(plugin_name: str, args: list[str]) -> dict[str, Any]:
    """The Icinga service variables that make the CheckCommand pass `args` (the inverse mapping).

    Flags become true, values strings, repeatable options arrays; an optional-value option
    given without a value sets its ``_any``/``_default`` flag.
    """
    parser = plugin_parser(plugin_name)
    prefix = plugin_name.replace("check_", "", 1)
    by_string = {}
    for action, opt in zip((a for a in parser._actions if not isinstance(
            a, (argparse._HelpAction, argparse._VersionAction)) and a.help != argparse.SUPPRESS),
            plugin_options(parser)):
        for string in action.option_strings:
            by_string[string] = opt
    positionals = [opt for opt in plugin_options(parser) if opt.positional]
    out: dict[str, Any] = {}
    i = 0
    while i < len(args):
        if not args[i].startswith("-") or args[i] == "-":
            opt = positionals[0]
            var = f"{prefix}_{opt.var}"
            if opt.repeat:
                out.setdefault(var, []).append(args[i])
            else:
                out[var] = args[i]
                positionals.pop(0)
            i += 1
            continue
        opt = by_string[args[i]]
        var = f"{prefix}_{opt.var}"
        has_value = i + 1 < len(args) and not args[i + 1].startswith("-")
        if opt.flag:
            out[var] = True
        elif opt.optional_value and not has_value:
            out[f"{var}_{_NO_VALUE_SUFFIX.get(opt.key, 'flag')}"] = True
        else:
            i += 1
            if opt.repeat:
                out.setdefault(var, []).append(args[i])
            else:
                out[var] = args[i]
        i += 1
    return out


def _icinga_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def icinga_command(plugin: Plugin) -> str:
    prefix = plugin.name.replace("check_", "", 1)
    lines = [
        f"/* {plugin.name}: {plugin.summary}. Variables: vars.{prefix}_<option>, e.g. {prefix}_warning. */",
        f'object CheckCommand "{prefix}" {{',
        f'  command = [ PluginDir + "/{plugin.name}" ]',
        "",
        "  arguments = {",
    ]
    for opt in plugin_options(plugin_parser(plugin.name)):
        var = f"{prefix}_{opt.var}"
        desc = opt.help + (f" ({' | '.join(opt.choices)})" if opt.choices else "")
        entries: list[tuple[str, list[str]]] = []
        if opt.flag:
            entries.append((opt.key, [f'set_if = "${var}$"']))
        else:
            body = [f'value = "${var}$"']
            if opt.repeat:
                body.append("repeat_key = true")
                desc += (" [array: one argument per element]" if opt.positional
                         else " [array: the option is repeated for each element]")
            else:
                # A value argument is left out when its variable is unset; this also drops "".
                body.append(f'set_if = {{{{ macro("${var}$") != "" }}}}')
            if opt.positional:
                body += ["skip_key = true", "order = 100"]
            entries.append((opt.key, body))
            if opt.optional_value:
                suffix = _NO_VALUE_SUFFIX.get(opt.key, "flag")
                entries.append((f"{opt.key} ({suffix})", [f'key = "{opt.key}"', f'set_if = "${var}_{suffix}$"']))
        for key, body in entries:
            text = desc if key == opt.key else f"{opt.key} without a value ({opt.help})"
            lines.append(f"    {_icinga_string(key)} = {{")
            lines.extend(f"      {b}" for b in body)
            lines.append(f"      description = {_icinga_string(text)}")
            lines.append("    }")
    lines.append("  }")
    if plugin.host:
        lines += ["", f'  vars.{prefix}_host = "$address$"  // "" to leave -H out (e.g. check_tls_cert -f)']
    lines.append("}")
    return "\n".join(lines)


def icinga_file() -> str:
    head = [
        "/* Icinga 2 CheckCommand definitions for the tlsmon plugins.",
        " *",
        " * Generated by packaging/generate.py from the plugins' option parsers: do not edit by hand.",
        " * Include it from icinga2.conf (Debian package: /usr/share/tlsmon/icinga2/tlsmon.conf):",
        ' *   include "/usr/share/tlsmon/icinga2/tlsmon.conf"',
        " * PluginDir must name the directory of the plugins (/usr/lib/nagios/plugins on Debian).",
        " *",
        " * Each option is a variable named <command>_<long option>, '-' as '_': tls_cert_warning for",
        " * check_tls_cert -w, tls_handshake_require_no_tls1_1 for --require-no-tls1_1. Flags are",
        " * booleans (set_if); repeatable options take an array (one option per element, repeat_key);",
        " * an unset variable or \"\" leaves its option out. -H defaults to the host's address.",
        " */",
        "",
        "",
    ]
    return "\n".join(head) + "\n\n".join(icinga_command(p) for p in PLUGINS) + "\n"


def nagios_file() -> str:
    out = [
        "# Nagios command definitions for the tlsmon plugins.",
        "#",
        "# Generated by packaging/generate.py: do not edit by hand. Include it from nagios.cfg with",
        "#   cfg_file=/usr/share/tlsmon/nagios/tlsmon-commands.cfg",
        "# $USER1$ must name the plugin directory (/usr/lib/nagios/plugins on Debian, resource.cfg).",
        "#",
        "# <plugin> runs the plugin against the host's address, with further options in $ARG1$:",
        "#   check_command  check_tls_cert!--sni www.example.org -w 30 -c 14",
        "# <plugin>_args leaves everything to $ARG1$ (another host name, -f FILE, a URL):",
        "#   check_command  check_tls_clientauth_args!-u https://www.example.org/secure/ --require-client-cert",
        "# Nagios splits $ARG1$ on spaces like the rest of the line; a ';' starts a comment and",
        "# '!' separates arguments, so neither may appear in an option value.",
        "",
    ]
    for plugin in PLUGINS:
        out.append(f"# {plugin.name}: {plugin.summary}")
        forms = [(plugin.name, f"$USER1$/{plugin.name} -H $HOSTADDRESS$ $ARG1$")] if plugin.host else []
        forms.append((f"{plugin.name}_args" if plugin.host else plugin.name, f"$USER1$/{plugin.name} $ARG1$"))
        for command_name, command_line in forms:
            out += ["define command {", f"    command_name    {command_name}", f"    command_line    {command_line}",
                    "}", ""]
    return "\n".join(out)


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))  # check_tls_cert -> CheckTlsCert


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


_MONITOR = """\
      <UnitMonitor ID="Tlsmon.{kind}.{camel}.Monitor" Accessibility="Public" Enabled="false"
                   Target="{target}" ParentMonitorID="Health!System.Health.AvailabilityState"
                   Remotable="true" Priority="Normal" ConfirmDelivery="false"
                   TypeID="{type_id}">
        <Category>AvailabilityHealth</Category>
        <AlertSettings AlertMessage="Tlsmon.{kind}.AlertMessage">
          <AlertOnState>Warning</AlertOnState>
          <AutoResolve>true</AutoResolve>
          <AlertPriority>Normal</AlertPriority>
          <AlertSeverity>MatchMonitorHealth</AlertSeverity>
          <AlertParameters>
            <AlertParameter1>{alert_text}</AlertParameter1>
          </AlertParameters>
        </AlertSettings>
        <OperationalStates>
          <OperationalState ID="Healthy" MonitorTypeStateID="{ok}" HealthState="Success" />
          <OperationalState ID="Warning" MonitorTypeStateID="{warning}" HealthState="Warning" />
          <OperationalState ID="Critical" MonitorTypeStateID="{critical}" HealthState="Error" />
        </OperationalStates>
        <Configuration>
          <IntervalSeconds>300</IntervalSeconds>
{configuration}
          <TimeoutSeconds>60</TimeoutSeconds>
        </Configuration>
      </UnitMonitor>"""


def scom_unix_monitor(plugin: Plugin) -> str:
    command = f"{PLUGIN_DIR}/{plugin.name} {plugin.sample}"
    configuration = [
        '          <TargetSystem>$Target/Property[Type="Unix!Microsoft.Unix.Computer"]/NetworkName$</TargetSystem>',
        f"          <ShellCommand>{_xml(command)}</ShellCommand>",
    ]
    return _MONITOR.format(kind="Unix", camel=_camel(plugin.name), target="Unix!Microsoft.Unix.Computer",
                           type_id="Tlsmon.ShellCommand.ExitCode.ThreeState.MonitorType",
                           alert_text=_xml('$Data/Context///*[local-name()="StdOut"]$'),
                           ok="ExitOK", warning="ExitWarning", critical="ExitCritical",
                           configuration="\n".join(configuration))


def scom_windows_monitor(plugin: Plugin) -> str:
    configuration = [
        "          <SyncTime />",
        "          <Python>C:\\Program Files\\Python311\\python.exe</Python>",
        f"          <Plugin>C:\\Program Files\\Python311\\Scripts\\{plugin.name}</Plugin>",
        f"          <Arguments>{_xml(plugin.sample)}</Arguments>",
    ]
    return _MONITOR.format(kind="Windows", camel=_camel(plugin.name), target="Windows!Microsoft.Windows.Computer",
                           type_id="Tlsmon.PowerShell.PropertyBag.ThreeState.MonitorType",
                           alert_text="$Data/Context/Property[@Name=&apos;Message&apos;]$",
                           ok="Healthy", warning="Warning", critical="Critical",
                           configuration="\n".join(configuration))


def scom_display_strings(kind: str) -> str:
    out = []
    for plugin in PLUGINS:
        out += [
            f'        <DisplayString ElementID="Tlsmon.{kind}.{_camel(plugin.name)}.Monitor">',
            f"          <Name>tlsmon {plugin.name}</Name>",
            f"          <Description>{_xml(plugin.summary)} ({plugin.name}; override the command to the check"
            " wanted)</Description>",
            "        </DisplayString>",
        ]
    return "\n".join(out)


def _fill(text: str, region: str, body: str) -> str:
    """Replace the lines between <!-- BEGIN generated REGION ... --> and <!-- END generated REGION -->."""
    begin = text.index(f"<!-- BEGIN generated {region}")
    begin = text.index("\n", begin) + 1
    end = text.index(f"<!-- END generated {region}", begin)
    end = text.rindex("\n", 0, end) + 1
    return text[:begin] + (body + "\n" if body else "") + text[end:]


def scom_file(path: Path) -> str:
    kind = "Unix" if path == SCOM_UNIX_FILE else "Windows"
    monitor = scom_unix_monitor if kind == "Unix" else scom_windows_monitor
    text = path.read_text()
    text = _fill(text, "monitors", "\n".join(monitor(p) for p in PLUGINS))
    return _fill(text, "display strings", scom_display_strings(kind))


def main(argv: list[str]) -> int:
    sys.path.insert(0, str(ROOT / "lib"))
    check = "--check" in argv
    stale = []
    outputs = [(ICINGA_FILE, icinga_file()), (NAGIOS_FILE, nagios_file()),
               (SCOM_UNIX_FILE, scom_file(SCOM_UNIX_FILE)), (SCOM_WINDOWS_FILE, scom_file(SCOM_WINDOWS_FILE))]
    for path, text in outputs:
        current = path.read_text() if path.exists() else None
        if current == text:
            continue
        if check:
            stale.append(str(path.relative_to(ROOT)))
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            print(f"wrote {path.relative_to(ROOT)}")
    if stale:
        print(f"out of date (run python3 packaging/generate.py): {', '.join(stale)}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

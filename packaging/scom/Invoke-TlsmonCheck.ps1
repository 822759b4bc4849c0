<#
.SYNOPSIS
    Run a tlsmon plugin on a SCOM Windows agent and return its property bag.

.DESCRIPTION
    Runs Python with the plugin script, the plugin's options and "--output scom", reads the
    DataItem XML the plugin prints (the System.PropertyBagData shape MOM.ScriptAPI writes) and
    returns a real MOM.ScriptAPI property bag with the same properties: Check, State (Healthy,
    Warning, Critical, Unknown), NagiosState, ExitCode, Message, Target, Details, PerfData and
    one property per metric (days_left, handshake_time, ...), typed as the plugin typed them.

    If the plugin cannot be started, times out, or prints something that is not a property
    bag (a missing Python module, say), the bag says State Unknown, ExitCode 3 and the reason in
    Message, so that a monitor never silently keeps its last state.

    Used by the monitors of Tlsmon.Windows.Monitors.mpx (data source
    Microsoft.Windows.TimedPowerShell.PropertyBagProvider), or by hand with -Test.

.PARAMETER Python
    python.exe with tlsmon installed (pip install of a tlsmon wheel, or from a checkout: pip install .).

.PARAMETER Plugin
    The plugin script, e.g. C:\Program Files\Python311\Scripts\check_tls_cert.

.PARAMETER Arguments
    The plugin's options as one string, split on white space as Nagios would split a command
    line ("-H www.example.org -w 30 -c 14"). "--output scom" is added.

.PARAMETER TimeoutSeconds
    The data source's time-out; the plugin gets 5 seconds less as its own -t unless Arguments
    sets -t.

.PARAMETER Test
    Print the bag as XML ($api.Return) instead of returning it: for trying a check by hand.

.EXAMPLE
    .\Invoke-TlsmonCheck.ps1 -Python 'C:\Program Files\Python311\python.exe' `
        -Plugin 'C:\Program Files\Python311\Scripts\check_tls_cert' -Arguments '-H www.example.org -w 30 -c 14' -Test
#>
param(
    [Parameter(Mandatory = $true)][string]$Plugin,
    [string]$Arguments = '',
    [string]$Python = 'python.exe',
    [int]$TimeoutSeconds = 60,
    [switch]$Test
)

$api = New-Object -ComObject 'MOM.ScriptAPI'
$invariant = [System.Globalization.CultureInfo]::InvariantCulture

function New-UnknownBag([string]$Message) {
    $bag = $api.CreatePropertyBag()
    $bag.AddValue('Check', [System.IO.Path]::GetFileName($Plugin).ToUpper().Replace('CHECK_', ''))
    $bag.AddValue('State', 'Unknown')
    $bag.AddValue('NagiosState', 'UNKNOWN')
    $bag.AddValue('ExitCode', [int]3)
    $bag.AddValue('Message', $Message)
    $bag.AddValue('Target', '')
    $bag.AddValue('Details', '')
    $bag.AddValue('PerfData', '')
    return $bag
}

function ConvertTo-BagValue([string]$VariantType, [string]$Text) {
    switch ($VariantType) {
        '3' { return [int]::Parse($Text, $invariant) }
        '5' { return [double]::Parse($Text, $invariant) }
        '11' { return ($Text -eq 'true') }
        default { return $Text }
    }
}

function Quote-Argument([string]$Text) {
    # Windows command-line quoting (CommandLineToArgvW rules) for one argument.
    if ($Text -ne '' -and $Text -notmatch '[\s"]') { return $Text }
    return '"' + ($Text -replace '(\\*)"', '$1$1\"' -replace '(\\+)$', '$1$1') + '"'
}

function Invoke-Plugin {
    $words = @($Arguments -split '\s+' | Where-Object { $_ -ne '' })
    if (-not ($words -contains '-t' -or $words -contains '--timeout')) {
        $words += @('-t', [string][math]::Max(1, $TimeoutSeconds - 5))
    }
    $words += @('--output', 'scom')
    $psi = New-Object System.Diagnostics.ProcessStartInfo
    $psi.FileName = $Python
    $psi.Arguments = (@($Plugin) + $words | ForEach-Object { Quote-Argument $_ }) -join ' '
    $psi.UseShellExecute = $false
    $psi.RedirectStandardOutput = $true
    $psi.RedirectStandardError = $true
    $psi.CreateNoWindow = $true
    try {
        $process = [System.Diagnostics.Process]::Start($psi)
    } catch {
        return New-UnknownBag "cannot start ${Python}: $($_.Exception.Message)"
    }
    $stdout = $process.StandardOutput.ReadToEndAsync()
    $stderr = $process.StandardError.ReadToEndAsync()
    if (-not $process.WaitForExit(1000 * [math]::Max(1, $TimeoutSeconds - 2))) {
        try { $process.Kill() } catch { }
        return New-UnknownBag "plugin did not finish within $TimeoutSeconds s"
    }
    $out = $stdout.Result
    try {
        $xml = [xml]$out
    } catch {
        $reason = (($out + "`n" + $stderr.Result).Trim() -split "`n")[0]
        return New-UnknownBag "plugin exit $($process.ExitCode), no property bag: $reason"
    }
    if ($xml.DocumentElement.LocalName -ne 'DataItem') {
        return New-UnknownBag "plugin exit $($process.ExitCode): not a DataItem"
    }
    $bag = $api.CreatePropertyBag()
    foreach ($property in $xml.DocumentElement.SelectNodes('Property')) {
        $bag.AddValue($property.GetAttribute('Name'),
                      (ConvertTo-BagValue $property.GetAttribute('VariantType') $property.InnerText))
    }
    return $bag
}

$bag = Invoke-Plugin
if ($Test) {
    $api.Return($bag)
} else {
    $bag
}

# Run by compat.Tests.ps1 in a child pwsh: switches to ConstrainedLanguage (as AppLocker/WDAC script
# enforcement puts an unsigned module), imports the module and runs every cmdlet; prints one JSON line.
param([string]$Module, [int]$Port, [string]$LogDir)
$ExecutionContext.SessionState.LanguageMode = 'ConstrainedLanguage'
Import-Module $Module
$mode = & (Get-Module PortQryTs) { $ExecutionContext.SessionState.LanguageMode }
$results = @{}
$runs = @{
    'Invoke-PortQuery'          = { Invoke-PortQuery 127.0.0.1 -Port $Port, 1 -NoReverseLookup -ErrorAction Stop }
    'Test-PortQuery'            = { Test-PortQuery 127.0.0.1 -Port $Port -Quiet -ErrorAction Stop }
    'Get-PortOwner'             = { Get-PortOwner -LocalPort $Port -ErrorAction Stop }
    'Import-PortReporterLog'    = { Import-PortReporterLog $LogDir -ErrorAction Stop }
    'Get-PortReporterStatistic' = { Get-PortReporterStatistic $LogDir -Statistic process-usage -ErrorAction Stop }
    'Get-PortQryTsExecutable'   = { Get-PortQryTsExecutable }
}
foreach ($name in @($runs.Keys)) {
    try {
        $out = @(& $runs[$name])
        $first = $null
        if ($out.Count -gt 0) { $first = $out[0] }
        $typeName = $null; $dateKind = $null
        if ($first -is [psobject] -and -not ($first -is [string]) -and -not ($first -is [bool])) {
            $typeName = $first.PSObject.TypeNames[0]
            foreach ($p in 'TimeUtc', 'FirstSeenUtc') {
                $has = @($first.PSObject.Properties | Where-Object { $_.Name -eq $p }).Count -gt 0
                if ($has -and $first.$p) { $dateKind = [string]$first.$p.Kind }
            }
        }
        $results[$name] = @{ Count = $out.Count; TypeName = $typeName; DateKind = $dateKind; Error = $null }
    } catch {
        $results[$name] = @{ Count = 0; Error = [string]$_ }
    }
}
$errs = $null
Invoke-PortQuery no-such-host.invalid -Port 80 -ErrorAction SilentlyContinue -ErrorVariable errs | Out-Null
$results['Error68'] = @{ Count = @($errs).Count; ErrorId = $(if ($errs) { $errs[0].FullyQualifiedErrorId } else { $null }) }
ConvertTo-Json -InputObject @{ LanguageMode = [string]$mode; Results = $results } -Depth 5 -Compress

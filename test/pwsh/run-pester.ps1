# Runs one Pester file and prints its results as JSON (one entry per test), for test/pwsh/pester.test.ts,
# which turns each into a tap assertion so Pester tests count in "N passed, N failed".
param([Parameter(Mandatory)][string]$PesterManifest, [Parameter(Mandatory)][string]$Path)
$ErrorActionPreference = 'Stop'
Import-Module $PesterManifest -Force
$configuration = New-PesterConfiguration
$configuration.Run.Path = $Path
$configuration.Run.PassThru = $true
$configuration.Output.Verbosity = 'None'
$result = Invoke-Pester -Configuration $configuration
$tests = foreach ($test in $result.Tests) {
    [ordered]@{
        Name    = $test.ExpandedPath
        Result  = [string]$test.Result
        Message = if ($test.ErrorRecord) { ($test.ErrorRecord | ForEach-Object { $_.ToString() }) -join "`n" } else { $null }
    }
}
# Failures outside any test (BeforeAll, discovery) would otherwise vanish.
$containers = foreach ($c in $result.Containers) {
    if ($c.Result -eq 'Failed' -and $c.ErrorRecord) {
        [ordered]@{ Name = "$($c.Item) (setup)"; Result = 'Failed'; Message = ($c.ErrorRecord | ForEach-Object { $_.ToString() }) -join "`n" }
    }
}
ConvertTo-Json -InputObject @(@($tests) + @($containers)) -Depth 4 -Compress

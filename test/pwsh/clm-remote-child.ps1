# Run by remoting.Tests.ps1 in a child pwsh: the -Session cmdlets and Install-PortQryTs under
# ConstrainedLanguage (the console's module unsigned under AppLocker/WDAC). Prints one JSON line.
param([string]$Module, [string]$HostName, [int]$SshPort, [string]$KeyFile, [string]$InstallPath, [int]$Port)
$ExecutionContext.SessionState.LanguageMode = 'ConstrainedLanguage'
Import-Module $Module
$result = @{ LanguageMode = [string](& (Get-Module PortQryTs) { $ExecutionContext.SessionState.LanguageMode }) }
try {
    $s = New-PSSession -HostName $HostName -Port $SshPort -UserName ([Environment]::UserName) -KeyFilePath $KeyFile -Options @{ StrictHostKeyChecking = 'no'; UserKnownHostsFile = '/dev/null'; LogLevel = 'ERROR' } -ErrorAction Stop
    $install = Install-PortQryTs -Session $s -Path $InstallPath -ErrorAction Stop
    $result['Install'] = [string]$install.Status
    $q = @(Test-PortQuery -Session $s -ComputerName 127.0.0.1 -Port $Port -NoReverseLookup -ErrorAction Stop)
    $result['QueryCount'] = $q.Count
    $result['QueryType'] = $q[0].PSObject.TypeNames[0]
    $result['QueryState'] = [string]$q[0].State
    $result['QueryComputer'] = [string]$q[0].PSComputerName
    $o = @(Get-PortOwner -Session $s -LocalPort $Port -ErrorAction Stop)
    $result['OwnerType'] = $o[0].PSObject.TypeNames[0]
    Remove-PSSession $s
    $errs = $null
    $null = Invoke-PortQuery -Session $s -ComputerName 127.0.0.1 -Port $Port -ErrorAction SilentlyContinue -ErrorVariable errs
    $result['ClosedErrors'] = @($errs).Count
} catch {
    $result['Error'] = [string]$_
}
ConvertTo-Json -InputObject $result -Compress

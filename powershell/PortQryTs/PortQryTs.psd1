@{
    RootModule           = 'PortQryTs.psm1'
    ModuleVersion        = '0.1.0'
    GUID                 = '5b0c7d2e-8f1a-4c39-9e57-2d4a61b3f0c8'
    Author               = 'portqry-ts contributors'
    Description          = 'PortQry, Port Reporter and Port Reporter Parser as cmdlets: typed objects from the portqry-ts executable.'
    PowerShellVersion    = '5.1'
    CompatiblePSEditions = @('Desktop', 'Core')
    FormatsToProcess     = @('PortQryTs.format.ps1xml')
    FunctionsToExport    = @('Invoke-PortQuery', 'Test-PortQuery', 'Get-PortOwner', 'Import-PortReporterLog', 'Get-PortReporterStatistic', 'Install-PortQryTs', 'Get-PortQryTsExecutable')
    CmdletsToExport      = @()
    VariablesToExport    = @()
    AliasesToExport      = @()
    PrivateData          = @{ PSData = @{ Tags = @('PortQry', 'PortReporter', 'network', 'ports'); LicenseUri = 'https://opensource.org/licenses/MIT' } }
}

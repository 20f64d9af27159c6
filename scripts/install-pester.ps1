# Installs Pester (the PowerShell test framework) for test/pwsh from NuGet, the only PowerShell package
# source reachable here (PSGallery is not), into .toolchain/pester-<version>/Pester (git-ignored), once.
# The package is pinned by its SHA-512. Prints the module manifest path. Used by test/pwsh/pester.test.ts.
$ErrorActionPreference = 'Stop'
$version = '5.7.1'
$sha512 = '0419649AAEA0B783B24ED06E97D6BE7AB0401018D7D4F928E75507427578493BA0927D46B3FAAE89127E58804008A774732A32F4CCC9BF9FADE61C59A9564BD4'
$root = Split-Path -Parent $PSScriptRoot
$dest = Join-Path $root ".toolchain/pester-$version"
$manifest = Join-Path $dest 'Pester/Pester.psd1'
if (Test-Path -LiteralPath (Join-Path $dest '.ok')) { return $manifest }

$work = Join-Path ([System.IO.Path]::GetTempPath()) ("portqry-ts-pester-" + [guid]::NewGuid())
New-Item -ItemType Directory -Path $work | Out-Null
try {
    $package = Join-Path $work "pester.$version.nupkg"
    Invoke-WebRequest -Uri "https://api.nuget.org/v3-flatcontainer/pester/$version/pester.$version.nupkg" -OutFile $package -UseBasicParsing
    $got = (Get-FileHash -LiteralPath $package -Algorithm SHA512).Hash
    if ($got -ne $sha512) { throw "Pester $version from NuGet has SHA-512 $got, expected $sha512" }
    # A .nupkg is a zip; Pester's package keeps the module in tools/.
    $zip = Join-Path $work 'pester.zip'
    Move-Item -LiteralPath $package -Destination $zip
    Expand-Archive -LiteralPath $zip -DestinationPath (Join-Path $work 'x')
    if (Test-Path -LiteralPath $dest) { Remove-Item -LiteralPath $dest -Recurse -Force }
    New-Item -ItemType Directory -Path $dest | Out-Null
    Move-Item -LiteralPath (Join-Path $work 'x/tools') -Destination (Join-Path $dest 'Pester')
    New-Item -ItemType File -Path (Join-Path $dest '.ok') | Out-Null
} finally {
    Remove-Item -LiteralPath $work -Recurse -Force -ErrorAction SilentlyContinue
}
return $manifest

import { runPesterFiles } from './pester-runner';

// PowerShell remoting over SSH to loopback (its own sshd): the fleet cmdlets, Install-PortQryTs.
runPesterFiles((file) => file === 'remoting.Tests.ps1');

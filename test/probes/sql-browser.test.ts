import t from 'tap';
import sqlBrowser, { decodeServerResponse } from '../../src/query/probes/sql-browser';
import { probeDataSchema, schemaErrors } from '../helpers/schema';
import { acceptedPrefixes, decoderFailures } from '../helpers/truncation';

/*
 * SQL Server Browser has no Linux server: these SVR_RESP fixtures are built from [MC-SQLR] §2.2.5
 * (0x05, RESP_SIZE little-endian, `key;value;` pairs, `;;` after each instance) with the instances
 * of PortQry's multi-instance sample (KB 310099).
 */
const ctx = { host: 'sql01', address: '127.0.0.1', port: 1434, community: 'public', timeoutMs: 1000 };

function svrResp(data: string): Buffer {
  const body = Buffer.from(data, 'latin1');
  const header = Buffer.from([0x05, 0, 0]);
  header.writeUInt16LE(body.length, 1);
  return Buffer.concat([header, body]);
}

const SAMPLE =
  'ServerName;LoganSQLSvr;InstanceName;MSSQLSERVER;IsClustered;No;Version;10.50.6000.34;tcp;1433;np;\\\\LoganSQLSvr\\pipe\\sql\\query;;' +
  'ServerName;LoganSQLSvr;InstanceName;LoganSQLSvr16A;IsClustered;No;Version;13.2.5026.0;tcp;58956;;';

t.test('the request is CLNT_UCAST_EX, one byte 0x03', async (t) => {
  t.same(sqlBrowser.encode(ctx), Buffer.from([0x03]));
});

t.test('decodes every instance: name, version, tcp port, pipe', async (t) => {
  const fields = decodeServerResponse(svrResp(SAMPLE));
  t.same(fields.Instances, [
    {
      ServerName: 'LoganSQLSvr', InstanceName: 'MSSQLSERVER', IsClustered: false, Version: '10.50.6000.34', TcpPort: 1433, NamedPipe: '\\\\LoganSQLSvr\\pipe\\sql\\query',
      Properties: { ServerName: 'LoganSQLSvr', InstanceName: 'MSSQLSERVER', IsClustered: 'No', Version: '10.50.6000.34', tcp: '1433', np: '\\\\LoganSQLSvr\\pipe\\sql\\query' },
    },
    {
      ServerName: 'LoganSQLSvr', InstanceName: 'LoganSQLSvr16A', IsClustered: false, Version: '13.2.5026.0', TcpPort: 58956, NamedPipe: null,
      Properties: { ServerName: 'LoganSQLSvr', InstanceName: 'LoganSQLSvr16A', IsClustered: 'No', Version: '13.2.5026.0', tcp: '58956' },
    },
  ]);
  t.same(schemaErrors(probeDataSchema('sql-browser'), fields), []);
});

t.test('text is PortQry\'s multi-instance sample, line for line', async (t) => {
  t.same(sqlBrowser.describe!(decodeServerResponse(svrResp(SAMPLE))), [
    "Server's response:",
    '',
    'ServerName LoganSQLSvr',
    'InstanceName MSSQLSERVER',
    'IsClustered No',
    'Version 10.50.6000.34',
    'tcp 1433',
    'np \\\\LoganSQLSvr\\pipe\\sql\\query',
    '',
    'ServerName LoganSQLSvr',
    'InstanceName LoganSQLSvr16A',
    'IsClustered No',
    'Version 13.2.5026.0',
    'tcp 58956',
    '',
    '==== End of SQL Server query response ====',
  ]);
});

t.test('other protocols and clustered instances are kept', async (t) => {
  const fields = decodeServerResponse(svrResp('ServerName;CL1;InstanceName;PROD;IsClustered;Yes;Version;16.0.1000.6;tcp;1433;via;CL1,1433:1433;rpc;CL1;;'));
  const [instance] = fields.Instances as { IsClustered: boolean; Properties: Record<string, string> }[];
  t.equal(instance.IsClustered, true);
  t.equal(instance.Properties.via, 'CL1,1433:1433');
  t.equal(instance.Properties.rpc, 'CL1');
  t.same(schemaErrors(probeDataSchema('sql-browser'), fields), []);
});

t.test('malformed responses are ProbeDecodeError', async (t) => {
  t.throws(() => decodeServerResponse(Buffer.from([0x04, 0, 0])), /not SVR_RESP/);
  t.throws(() => decodeServerResponse(svrResp('ServerName;X;InstanceName;;')), /key without a value/);
  t.throws(() => decodeServerResponse(svrResp('ServerName;X;')), /does not end/);
  t.same(decoderFailures(decodeServerResponse, svrResp(SAMPLE)), []);
  t.same(acceptedPrefixes(decodeServerResponse, svrResp(SAMPLE)), []);
});

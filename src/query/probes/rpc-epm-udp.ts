import * as crypto from 'node:crypto';
import { decodeClResponse, encodeClRequest } from './codec/dcerpc-cl';
import { rpcStatusName } from './codec/dcerpc';
import rpcEpm, { decodeLookupStub, EPM_INTERFACE, encodeLookupStub } from './rpc-epm';
import { ProbeDecodeError, type DatagramProbe, type ProbeContext } from './types';

/**
 * The endpoint mapper over UDP 135 (ncadg_ip_udp), as PortQry queries it with `-p udp -e 135`: one
 * connectionless ept_lookup request (C706 12.5; the same NDR stub as over TCP) in one datagram, and the
 * entries of the answer's first datagram. Connectionless RPC needs no bind. A few entries per call keep
 * the answer in one datagram (a longer answer would come in fragments, each needing an acknowledgement):
 * `More` says whether the server has further entries (`-p tcp -e 135` lists them all).
 */
const ENTRIES = 5;
const EPT_LOOKUP = 2;
const EPT_S_NOT_REGISTERED = 0x16c9a0d6;
const activities = new WeakMap<ProbeContext, string>();

const rpcEpmUdp: DatagramProbe = {
  kind: 'datagram',
  name: 'rpc-epm-udp',
  label: 'RPC Endpoint Mapper',
  ports: [135],
  announce: () => ['Using ephemeral source port', 'Querying Endpoint Mapper Database...'],
  encode(ctx) {
    const activity = crypto.randomUUID();
    activities.set(ctx, activity);
    return encodeClRequest({ iface: EPM_INTERFACE, opnum: EPT_LOOKUP, stub: encodeLookupStub(Buffer.alloc(20), ENTRIES), activity });
  },
  decode(reply, ctx) {
    const { stub, complete } = decodeClResponse(reply, activities.get(ctx));
    if (!complete) throw new ProbeDecodeError('the endpoint mapper answered in several fragments; query TCP 135 for the full list');
    const answer = decodeLookupStub(stub);
    if (answer.status !== 0 && answer.status !== EPT_S_NOT_REGISTERED) throw new ProbeDecodeError(`ept_lookup failed: ${rpcStatusName(answer.status)}`);
    const more = answer.status === 0 && answer.entries.length > 0 && !answer.entryHandle.every((b) => b === 0);
    return { EntryCount: answer.entries.length, Entries: answer.entries, More: more };
  },
  describe: (fields) => rpcEpm.describe!(fields),
};

export default rpcEpmUdp;

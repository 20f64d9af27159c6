import t from 'tap';
import {
  fallbackDeadlineMs,
  icmpVerdict,
  planTcpAttempt,
  tcpStep,
  udpStep,
  UDP_STATE,
  WINDOWS_SYN_RETRY_SPAN_MS,
  WSA,
  wsaName,
  type IcmpInfo,
  type Step,
  type TcpEvent,
  type TcpPlan,
} from '../../src/query/winsock-verdict';

// The Winsock verdict state machine with Windows' documented semantics injected: error codes as
// ws2_32 reports them, and the times at which Windows reports them (which Wine cannot show).

const ACCEPTED = { initialRto: 0, maxRt: 0, failOnIcmp: 0 };
const RTO_REFUSED = { initialRto: WSA.EINVAL, maxRt: 0, failOnIcmp: 0 };
const ALL_REFUSED = { initialRto: WSA.EINVAL, maxRt: WSA.ENOPROTOOPT, failOnIcmp: WSA.ENOPROTOOPT };

t.test('the plan follows what Windows accepted', async (t) => {
  const full = planTcpAttempt(1000, ACCEPTED);
  t.same(full, { deadlineMs: 1000, rstFinal: true, icmpReported: true, osDeadline: true, refused: [] });
  const fallback = planTcpAttempt(1000, RTO_REFUSED);
  t.equal(fallback.deadlineMs, 3000, 'SYN retries (2000 ms) + the answer to the last SYN (the timeout)');
  t.equal(fallback.rstFinal, false);
  t.same(fallback.refused, ['SIO_TCP_INITIAL_RTO refused (WSAEINVAL)']);
  const none = planTcpAttempt(500, ALL_REFUSED);
  t.same(
    { ...none, refused: none.refused.length },
    { deadlineMs: 2500, rstFinal: false, icmpReported: false, osDeadline: false, refused: 3 },
  );
  t.match(none.refused[2], /TCP_FAIL_CONNECT_ON_ICMP_ERROR refused \(WSAENOPROTOOPT\)/);
  t.equal(fallbackDeadlineMs(2000), 4000);
  t.equal(WINDOWS_SYN_RETRY_SPAN_MS, 2000);
});

type Row = [name: string, options: typeof ACCEPTED, event: TcpEvent, expected: Partial<Extract<Step, { kind: 'verdict' }>> | Step, reason?: RegExp];

const icmp = (type: number, code: number, v6 = false): IcmpInfo => ({ type, code, v6 });

const tcpRows: Row[] = [
  ['connect() succeeds at once', ACCEPTED, { type: 'connect-call', code: 0, atMs: 0.2 }, { kind: 'verdict', state: 'LISTENING', reason: 'connected' }],
  ['connect() pending', ACCEPTED, { type: 'connect-call', code: WSA.EWOULDBLOCK, atMs: 0.1 }, { kind: 'wait' }],
  ['writable', ACCEPTED, { type: 'connected', atMs: 0.4 }, { kind: 'verdict', state: 'LISTENING', reason: 'connected' }],
  ['RST, no SYN retransmissions', ACCEPTED, { type: 'failed', code: WSA.ECONNREFUSED, atMs: 0.5 }, { state: 'NOT LISTENING' }, /^reset \(WSAECONNREFUSED in 1 ms: RST, no SYN retransmissions\)$/],
  ['RST after the SYN retries (fallback)', RTO_REFUSED, { type: 'failed', code: WSA.ECONNREFUSED, atMs: 2011 }, { state: 'NOT LISTENING' }, /^reset \(WSAECONNREFUSED after 2011 ms; fallback wait up to 3000 ms for Windows' SYN retries because SIO_TCP_INITIAL_RTO refused \(WSAEINVAL\)\)$/],
  ['RST as WSAECONNRESET', ACCEPTED, { type: 'failed', code: WSA.ECONNRESET, atMs: 1 }, { state: 'NOT LISTENING' }, /^reset \(WSAECONNRESET/],
  ['TCP_MAXRTMS ends the attempt', ACCEPTED, { type: 'failed', code: WSA.ETIMEDOUT, atMs: 1000 }, { state: 'FILTERED' }, /^timeout \(WSAETIMEDOUT after 1000 ms\)$/],
  ['WSAETIMEDOUT on the fallback path', RTO_REFUSED, { type: 'failed', code: WSA.ETIMEDOUT, atMs: 3000 }, { state: 'FILTERED' }, /^timeout \(WSAETIMEDOUT after 3000 ms; fallback wait 3000 ms because SIO_TCP_INITIAL_RTO refused/],
  ['our timer (options refused)', ALL_REFUSED, { type: 'deadline', atMs: 3000 }, { state: 'FILTERED' }, /^timeout \(no answer in 3000 ms; fallback wait 3000 ms because SIO_TCP_INITIAL_RTO refused \(WSAEINVAL\)\)$/],
  ['our timer', ACCEPTED, { type: 'deadline', atMs: 1000 }, { state: 'FILTERED' }, /^timeout \(no answer in 1000 ms\)$/],
  ['WSAEHOSTUNREACH without ICMP info', ALL_REFUSED, { type: 'failed', code: WSA.EHOSTUNREACH, atMs: 3 }, { state: 'FILTERED' }, /^icmp-unreachable \(WSAEHOSTUNREACH\)$/],
  ['WSAENETUNREACH', ACCEPTED, { type: 'failed', code: WSA.ENETUNREACH, atMs: 0 }, { state: 'FILTERED' }, /^icmp-unreachable \(WSAENETUNREACH\)$/],
  ['WSAENETRESET', ACCEPTED, { type: 'failed', code: WSA.ENETRESET, atMs: 0 }, { state: 'FILTERED' }, /^icmp-unreachable \(WSAENETRESET\)$/],
  ['ICMP type 3 code 1', ACCEPTED, { type: 'failed', code: WSA.EHOSTUNREACH, atMs: 2, icmp: icmp(3, 1) }, { state: 'FILTERED' }, /^icmp-unreachable \(ICMP type 3 code 1: host unreachable\)$/],
  ['ICMP type 3 code 3', ACCEPTED, { type: 'failed', code: WSA.ECONNREFUSED, atMs: 2, icmp: icmp(3, 3) }, { state: 'NOT LISTENING' }, /^icmp-port-unreachable \(ICMP type 3 code 3\)$/],
  ['ICMP type 3 code 9', ACCEPTED, { type: 'failed', code: WSA.ENETUNREACH, atMs: 2, icmp: icmp(3, 9) }, { state: 'FILTERED' }, /^icmp-unreachable \(ICMP type 3 code 9: net administratively prohibited\)$/],
  ['ICMP type 3 code 10', ACCEPTED, { type: 'failed', code: WSA.EHOSTUNREACH, atMs: 2, icmp: icmp(3, 10) }, { state: 'FILTERED' }, /^icmp-unreachable \(ICMP type 3 code 10: host administratively prohibited\)$/],
  ['ICMP type 3 code 13', ACCEPTED, { type: 'failed', code: WSA.EHOSTUNREACH, atMs: 2, icmp: icmp(3, 13) }, { state: 'FILTERED' }, /^icmp-unreachable \(ICMP type 3 code 13: communication administratively prohibited\)$/],
  ['ICMPv6 type 1 code 4', ACCEPTED, { type: 'failed', code: WSA.ECONNREFUSED, atMs: 2, icmp: icmp(1, 4, true) }, { state: 'NOT LISTENING' }, /^icmp-port-unreachable \(ICMPv6 type 1 code 4\)$/],
  ['ICMPv6 type 1 code 1', ACCEPTED, { type: 'failed', code: WSA.EHOSTUNREACH, atMs: 2, icmp: icmp(1, 1, true) }, { state: 'FILTERED' }, /administratively prohibited/],
  ['ICMP info ignored when the option was refused', ALL_REFUSED, { type: 'failed', code: WSA.ECONNREFUSED, atMs: 2100, icmp: icmp(3, 13) }, { state: 'NOT LISTENING' }, /^reset /],
  ['an unknown code is FILTERED, named', ACCEPTED, { type: 'failed', code: 10099, atMs: 1 }, { state: 'FILTERED' }, /^winsock error 10099 \(connect failed\)$/],
  ['WSAEMFILE on socket()', ACCEPTED, { type: 'socket-error', code: WSA.EMFILE }, { kind: 'local-shortage', code: 'WSAEMFILE' }],
  ['WSAENOBUFS on socket()', ACCEPTED, { type: 'socket-error', code: WSA.ENOBUFS }, { kind: 'local-shortage', code: 'WSAENOBUFS' }],
  ['WSAENOBUFS on connect()', ACCEPTED, { type: 'connect-call', code: WSA.ENOBUFS, atMs: 0 }, { kind: 'local-shortage', code: 'WSAENOBUFS' }],
  ['WSAEADDRINUSE on connect() without -sp: no ephemeral port', ACCEPTED, { type: 'connect-call', code: WSA.EADDRINUSE, atMs: 0 }, { kind: 'local-shortage', code: 'WSAEADDRINUSE' }],
  ['WSAEAFNOSUPPORT on socket(): no IPv6 stack', ACCEPTED, { type: 'socket-error', code: WSA.EAFNOSUPPORT }, { kind: 'local-error', code: 'WSAEAFNOSUPPORT' }],
];

t.test('TCP events, table-driven', async (t) => {
  for (const [name, options, event, expected, reason] of tcpRows) {
    const step = tcpStep(planTcpAttempt(1000, options), event);
    if ('kind' in expected) t.same(step, expected, name);
    else {
      t.equal(step.kind, 'verdict', `${name}: a verdict`);
      if (step.kind !== 'verdict') continue;
      t.equal(step.state, expected.state, `${name}: ${expected.state}`);
      if (reason) t.match(step.reason, reason, `${name}: reason`);
    }
  }
});

t.test('-sp: WSAEADDRINUSE on bind is the source port in use, never a verdict', async (t) => {
  const plan = planTcpAttempt(1000, ACCEPTED);
  t.same(tcpStep(plan, { type: 'bind-error', code: WSA.EADDRINUSE }, 5000), { kind: 'source-port-in-use' });
  t.same(tcpStep(plan, { type: 'bind-error', code: WSA.EACCES }, 5000), { kind: 'source-port-in-use' }, 'SO_EXCLUSIVEADDRUSE owner: WSAEACCES');
  t.same(tcpStep(plan, { type: 'connect-call', code: WSA.EADDRINUSE, atMs: 0 }, 5000), { kind: 'source-port-in-use' }, 'the 4-tuple taken at connect');
  t.same(tcpStep(plan, { type: 'bind-error', code: WSA.ENOBUFS }), { kind: 'local-shortage', code: 'WSAENOBUFS' });
});

/**
 * Windows' documented handling of a closed port, as a model: the SYN is answered by a RST after one
 * round trip; with SYN retransmissions left Windows sends the SYN again and reports WSAECONNREFUSED only
 * after its retries (2002 ms at best on Windows CI runners, nmap#2113). Returns the event the driver
 * sees first: Windows' report or our timer.
 */
function windowsClosedPort(plan: TcpPlan, rttMs: number, retrySpanMs = 2002): TcpEvent {
  const reportAt = plan.rstFinal ? rttMs : retrySpanMs + rttMs;
  if (reportAt < plan.deadlineMs) return { type: 'failed', code: WSA.ECONNREFUSED, atMs: reportAt };
  return { type: 'deadline', atMs: plan.deadlineMs };
}

/** A port that drops the SYN: Windows' TCP_MAXRTMS ends it with WSAETIMEDOUT, or our timer does. */
function windowsDroppedPort(plan: TcpPlan): TcpEvent {
  return plan.osDeadline ? { type: 'failed', code: WSA.ETIMEDOUT, atMs: plan.deadlineMs } : { type: 'deadline', atMs: plan.deadlineMs };
}

t.test('a closed port on Windows semantics', async (t) => {
  const fast = planTcpAttempt(1000, ACCEPTED);
  const event = windowsClosedPort(fast, 0.3);
  t.match(event, { type: 'failed', atMs: 0.3 }, 'with no SYN retransmissions the RST is final in one round trip');
  t.match(tcpStep(fast, event), { kind: 'verdict', state: 'NOT LISTENING' });

  // The bug this engine exists for: with SYN retries, a 1000 ms wait cuts the answer off as FILTERED.
  const naive: TcpPlan = { ...planTcpAttempt(1000, RTO_REFUSED), deadlineMs: 1000 };
  t.match(tcpStep(naive, windowsClosedPort(naive, 0.3)), { kind: 'verdict', state: 'FILTERED' }, 'a 1000 ms wait: FILTERED (wrong)');

  // The fallback waits long enough: RST only reported after 2 s of SYN retries, still NOT LISTENING.
  const fallback = planTcpAttempt(1000, RTO_REFUSED);
  const late = windowsClosedPort(fallback, 0.3);
  t.match(late, { type: 'failed', atMs: 2002.3 });
  const step = tcpStep(fallback, late);
  t.match(step, { kind: 'verdict', state: 'NOT LISTENING' }, 'RST after 2 s of SYN retries: NOT LISTENING');
  t.match(step.kind === 'verdict' ? step.reason : '', /SIO_TCP_INITIAL_RTO refused/, 'the Reason names the fallback');
  // A slow link: the retries plus a 900 ms round trip still fit in the fallback window.
  t.match(tcpStep(fallback, windowsClosedPort(fallback, 900)), { kind: 'verdict', state: 'NOT LISTENING' });
  // With every option refused our own timer is the only limit, and it is the same window.
  const bare = planTcpAttempt(1000, ALL_REFUSED);
  t.match(tcpStep(bare, windowsClosedPort(bare, 5)), { kind: 'verdict', state: 'NOT LISTENING' });
});

t.test('a dropped port on Windows semantics', async (t) => {
  t.match(tcpStep(planTcpAttempt(1000, ACCEPTED), windowsDroppedPort(planTcpAttempt(1000, ACCEPTED))), { kind: 'verdict', state: 'FILTERED', reason: /^timeout \(WSAETIMEDOUT after 1000 ms\)$/ });
  const bare = planTcpAttempt(1000, ALL_REFUSED);
  t.match(tcpStep(bare, windowsDroppedPort(bare)), { kind: 'verdict', state: 'FILTERED', reason: /^timeout \(no answer in 3000 ms; fallback/ });
});

t.test('ICMP verdicts', async (t) => {
  const rows: [IcmpInfo, string][] = [
    [icmp(3, 0), 'FILTERED'],
    [icmp(3, 1), 'FILTERED'],
    [icmp(3, 2), 'FILTERED'],
    [icmp(3, 3), 'NOT LISTENING'],
    [icmp(3, 9), 'FILTERED'],
    [icmp(3, 10), 'FILTERED'],
    [icmp(3, 13), 'FILTERED'],
    [icmp(11, 0), 'FILTERED'],
    [icmp(1, 0, true), 'FILTERED'],
    [icmp(1, 3, true), 'FILTERED'],
    [icmp(1, 4, true), 'NOT LISTENING'],
  ];
  t.same(
    rows.map(([i]) => icmpVerdict(i).state),
    rows.map(([, s]) => s),
  );
  t.equal(icmpVerdict(icmp(11, 0)).reason, 'icmp-unreachable (ICMP type 11 code 0)', 'an unexpected type is named, not guessed');
});

t.test('UDP events, table-driven', async (t) => {
  const rows: [string, Parameters<typeof udpStep>[0], string, RegExp | string][] = [
    ['a reply', { type: 'reply' }, 'reply', 'reply'],
    ['our own datagram back (loopback self-connect)', { type: 'reply', own: true }, 'self-connect', 'self-connect'],
    ['WSAECONNRESET on recv (KB 263823)', { type: 'recv-error', code: WSA.ECONNRESET }, 'icmp-port-unreachable', 'icmp-port-unreachable (WSAECONNRESET)'],
    ['WSAECONNREFUSED on recv (Wine)', { type: 'recv-error', code: WSA.ECONNREFUSED }, 'icmp-port-unreachable', 'icmp-port-unreachable (WSAECONNREFUSED)'],
    ['WSAECONNRESET on a second send', { type: 'send-error', code: WSA.ECONNRESET }, 'icmp-port-unreachable', /WSAECONNRESET/],
    ['WSAENETRESET on recv', { type: 'recv-error', code: WSA.ENETRESET }, 'icmp-unreachable', /time exceeded/],
    ['WSAEHOSTUNREACH on recv', { type: 'recv-error', code: WSA.EHOSTUNREACH }, 'icmp-unreachable', 'icmp-unreachable (WSAEHOSTUNREACH)'],
    ['WSAENETUNREACH on send', { type: 'send-error', code: WSA.ENETUNREACH }, 'icmp-unreachable', 'icmp-unreachable (WSAENETUNREACH)'],
    ['silence', { type: 'deadline', atMs: 1000 }, 'no-reply', 'no-reply'],
    ['a pending error read with SO_ERROR (Wine)', { type: 'pending-error', code: WSA.ECONNREFUSED }, 'icmp-port-unreachable', 'icmp-port-unreachable (WSAECONNREFUSED via SO_ERROR)'],
  ];
  for (const [name, event, outcome, reason] of rows) {
    const step = udpStep(event);
    t.match(step, { kind: 'verdict', outcome, reason }, name);
  }
  t.same(UDP_STATE, { reply: 'LISTENING', 'self-connect': 'NOT LISTENING', 'icmp-port-unreachable': 'NOT LISTENING', 'icmp-unreachable': 'FILTERED', 'no-reply': 'LISTENING or FILTERED' });
  t.same(udpStep({ type: 'socket-error', code: WSA.EMFILE }), { kind: 'local-shortage', code: 'WSAEMFILE' });
  t.same(udpStep({ type: 'send-error', code: WSA.ENOBUFS }), { kind: 'local-shortage', code: 'WSAENOBUFS' });
  t.same(udpStep({ type: 'bind-error', code: WSA.EADDRINUSE }, 53), { kind: 'source-port-in-use' });
  t.same(udpStep({ type: 'bind-error', code: WSA.EADDRINUSE }), { kind: 'local-shortage', code: 'WSAEADDRINUSE' });
});

t.test('names', async (t) => {
  t.equal(wsaName(10061), 'WSAECONNREFUSED');
  t.equal(wsaName(10060), 'WSAETIMEDOUT');
  t.equal(wsaName(10065), 'WSAEHOSTUNREACH');
  t.equal(wsaName(10051), 'WSAENETUNREACH');
  t.equal(wsaName(10054), 'WSAECONNRESET');
  t.equal(wsaName(10052), 'WSAENETRESET');
  t.equal(wsaName(10022), 'WSAEINVAL');
  t.equal(wsaName(10042), 'WSAENOPROTOOPT');
  t.equal(wsaName(10048), 'WSAEADDRINUSE');
  t.equal(wsaName(10024), 'WSAEMFILE');
  t.equal(wsaName(10055), 'WSAENOBUFS');
  t.equal(wsaName(1), 'Winsock error 1');
});

// TCP state of a FullNAT session as the load balancer sees it from the middle: it is neither
// endpoint, so a state says which segments have passed, not what either end believes.
//
// A segment is reduced to one event, the strongest of its flags: RST, then SYN+ACK, then SYN,
// then FIN, then ACK. Segments with none of these change nothing.
//
// The life of a connection opened by the client (inbound = client → server):
//   none        --in SYN-->              syn_recv      the client asked; we picked a server
//   syn_recv    --out SYN+ACK-->         syn_recv      the server answered; not yet confirmed
//   syn_recv    --in ACK-->              established   the handshake completed
//   established --in FIN-->              fin_wait      the client closes first
//   established --out FIN-->             close_wait    the server closes first
//   fin_wait    --out FIN-->             last_ack      both have closed (also crossing FINs)
//   close_wait  --in FIN-->              last_ack
//   last_ack    --ACK either way-->      time_wait     the last FIN is acknowledged
//   any         --RST either way-->      close         ended at once
//   time_wait, close --in SYN-->         syn_recv      the client reuses the tuple
// A FIN during the handshake moves to fin_wait / close_wait like one in established.
// syn_sent mirrors syn_recv for a SYN seen from the server first (none --out SYN-->), which
// FullNAT never creates itself; the server's ACK after the client's SYN+ACK establishes it.
// A UDP session stays udp.
#include "sessions.h"

namespace l4lb {

namespace {

enum Event { kSynEvent, kSynAckEvent, kFinEvent, kAckEvent, kRstEvent, kEvents };

constexpr int kStates = static_cast<int>(TcpState::udp) + 1;

constexpr TcpState NO = TcpState::none, SS = TcpState::syn_sent, SR = TcpState::syn_recv,
                   ES = TcpState::established, FW = TcpState::fin_wait, CW = TcpState::close_wait,
                   LA = TcpState::last_ack, TW = TcpState::time_wait, CL = TcpState::close,
                   UD = TcpState::udp;

// [state][event] → next state, per direction.
constexpr TcpState kInbound[kStates][kEvents] = {
    //         SYN  SYN+ACK FIN  ACK  RST
    /* none */ {SR, NO, NO, NO, CL},
    /* ss   */ {SS, SS, FW, SS, CL},
    /* sr   */ {SR, SR, FW, ES, CL},
    /* es   */ {ES, ES, FW, ES, CL},
    /* fw   */ {FW, FW, FW, FW, CL},
    /* cw   */ {CW, CW, LA, CW, CL},
    /* la   */ {LA, LA, LA, TW, CL},
    /* tw   */ {SR, TW, TW, TW, CL},
    /* cl   */ {SR, CL, CL, CL, CL},
    /* udp  */ {UD, UD, UD, UD, UD},
};

constexpr TcpState kOutbound[kStates][kEvents] = {
    //         SYN  SYN+ACK FIN  ACK  RST
    /* none */ {SS, NO, NO, NO, CL},
    /* ss   */ {SS, SS, CW, ES, CL},
    /* sr   */ {SR, SR, CW, SR, CL},
    /* es   */ {ES, ES, CW, ES, CL},
    /* fw   */ {FW, FW, LA, FW, CL},
    /* cw   */ {CW, CW, CW, CW, CL},
    /* la   */ {LA, LA, LA, TW, CL},
    /* tw   */ {TW, TW, TW, TW, CL},
    /* cl   */ {CL, CL, CL, CL, CL},
    /* udp  */ {UD, UD, UD, UD, UD},
};

// The strongest event in `flags`, or kEvents for a segment that carries none.
int event_of(uint8_t flags) {
  if (flags & kRst) return kRstEvent;
  if (flags & kSyn) return (flags & kAck) ? kSynAckEvent : kSynEvent;
  if (flags & kFin) return kFinEvent;
  if (flags & kAck) return kAckEvent;
  return kEvents;
}

}  // namespace

const char* tcp_state_name(TcpState s) {
  static const char* const names[kStates] = {"none",     "syn_sent",  "syn_recv", "established",
                                             "fin_wait", "close_wait", "last_ack", "time_wait",
                                             "close",    "udp"};
  const int i = static_cast<int>(s);
  return i < kStates ? names[i] : "unknown";
}

// Per packet. Cost: a few branches and one table load.
TcpState next_tcp_state(TcpState current, Direction direction, uint8_t flags) {
  const int state = static_cast<int>(current), event = event_of(flags);
  if (state >= kStates || event == kEvents) return current;
  return direction == Direction::inbound ? kInbound[state][event] : kOutbound[state][event];
}

uint32_t state_timeout_s(TcpState s, const Timeouts& t) {
  switch (s) {
    case TcpState::none:
    case TcpState::syn_recv: return t.tcp_syn_recv;
    case TcpState::syn_sent: return t.tcp_syn_sent;
    case TcpState::established: return t.tcp_established;
    case TcpState::fin_wait: return t.tcp_fin_wait;
    case TcpState::close_wait: return t.tcp_close_wait;
    case TcpState::last_ack: return t.tcp_last_ack;
    case TcpState::time_wait: return t.tcp_time_wait;
    case TcpState::close: return t.tcp_close;
    case TcpState::udp: return t.udp;
  }
  return t.tcp_close;
}

}  // namespace l4lb

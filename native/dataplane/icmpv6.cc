// ICMPv6 for a worker (flow.h, handle_icmpv6): neighbour discovery (nd.cc), then what ICMP
// does too (icmp.h): echo replies from owned addresses, errors about sessions translated.
// IPv6 reaches here on a backup as well (worker.cc), for neighbour discovery's sake.
#include <netinet/icmp6.h>

#include "flow.h"
#include "icmp.h"
#include "nd.h"

namespace l4lb {

// Cost for an echo or an error: a few compares before answer_echo() or translate_error().
void handle_icmpv6(Worker& w, rte_mbuf* m, const IpFrame& f, uint16_t in_port, bool from_wire) {
  uint8_t type = f.icmp()->icmp_type;
  if (is_neighbour_discovery(type)) return handle_neighbour_discovery(w, m, f, in_port, from_wire);
  if (w.snapshot->backup) return w.drop(m, in_port, Drop::backup);   // the active node answers and forwards
  const PortInfo* port = w.snapshot->port(in_port);
  if (type == ICMP6_ECHO_REQUEST && port && owns(*port, f.destination())) return answer_echo(w, m, f, in_port);
  if (type >= ICMP6_DST_UNREACH && type <= ICMP6_PARAM_PROB && translate_error(w, m, f, in_port)) return;
  w.drop(m, in_port, Drop::no_service);   // router discovery, multicast listeners, echo elsewhere
}

}  // namespace l4lb

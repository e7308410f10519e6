#include "convert.h"

#include <stdexcept>

#include "sessions.h"

namespace l4lb::binding {

namespace {

uint32_t u32(const Napi::Object& o, const char* key) { return o.Get(key).As<Napi::Number>().Uint32Value(); }
std::string str(const Napi::Object& o, const char* key) { return o.Get(key).As<Napi::String>().Utf8Value(); }
bool flag(const Napi::Object& o, const char* key) { return o.Get(key).As<Napi::Boolean>().Value(); }

template <class T, class F>
std::vector<T> list(const Napi::Object& o, const char* key, F&& convert) {
  Napi::Array array = o.Get(key).As<Napi::Array>();
  std::vector<T> out;
  out.reserve(array.Length());
  for (uint32_t i = 0; i < array.Length(); ++i) out.push_back(convert(array.Get(i)));
  return out;
}

// Addresses and prefixes arrive as the store holds them, as text ("2001:db8::1",
// "10.0.0.0/24"), already validated; parsing again costs nothing that matters here and keeps
// one representation across the boundary.
Address address(const Napi::Value& v) {
  Address a;
  std::string text = v.As<Napi::String>().Utf8Value();
  if (!parse_address(text, &a)) throw std::invalid_argument("not an IP address: " + text);
  return a;
}

Prefix prefix(const Napi::Value& v) {
  if (v.IsNull() || v.IsUndefined()) return {};
  std::string text = v.As<Napi::String>().Utf8Value();
  size_t slash = text.find('/');
  Prefix p;
  if (slash == std::string::npos || !parse_address(text.substr(0, slash), &p.address))
    throw std::invalid_argument("not a CIDR prefix: " + text);
  unsigned long length = std::stoul(text.substr(slash + 1));
  if (length > (p.address.is_v4() ? 32u : 128u)) throw std::invalid_argument("prefix length out of range: " + text);
  p.length = uint8_t(length);
  return p;
}

template <class E>
E choice(const std::string& text, std::initializer_list<std::pair<const char*, E>> options) {
  for (auto& [name, value] : options)
    if (text == name) return value;
  throw std::invalid_argument("unknown value " + text);
}

Timeouts timeouts(const Napi::Object& o) {
  Timeouts t;
  auto read = [&](const char* key, uint32_t& field) {
    if (o.Has(key)) field = u32(o, key);
  };
  read("tcpSynRecv", t.tcp_syn_recv);
  read("tcpEstablished", t.tcp_established);
  read("tcpFinWait", t.tcp_fin_wait);
  read("tcpFinWait", t.tcp_close_wait);  // the API's one "closing" timeout covers all three states
  read("tcpFinWait", t.tcp_last_ack);
  read("tcpTimeWait", t.tcp_time_wait);
  read("tcpClose", t.tcp_close);
  read("udp", t.udp);
  return t;
}

// clientRateLimit; absent: none.
ClientRateLimit client_rate_limit(const Napi::Value& v) {
  if (!v.IsObject()) return {};
  Napi::Object o = v.As<Napi::Object>();
  return ClientRateLimit{u32(o, "connectionsPerSecond"), u32(o, "burst")};
}

// Every field of ServiceSettings (config.h), read by its API name: a new per-service setting
// is one line here.
void read_service_settings(const Napi::Object& o, ServiceSettings& s) {
  s.client_address = choice<ClientAddress>(
      str(o, "clientAddress"), {{"none", ClientAddress::none}, {"toa", ClientAddress::toa},
                                {"proxy-protocol-v1", ClientAddress::proxy_v1}, {"proxy-protocol-v2", ClientAddress::proxy_v2}});
  s.timeouts = timeouts(o.Get("timeouts").As<Napi::Object>());
  s.sync = flag(o, "sync");
  s.enabled = flag(o, "enabled");
  s.client_rate_limit = client_rate_limit(o.Get("clientRateLimit"));
}

}  // namespace

// The stored virtual-service spec as it is (API field names), with its name and its real servers.
ServiceConfig service_from_js(const Napi::Object& o) {
  ServiceConfig s;
  s.name = str(o, "name");
  s.address = address(o.Get("address"));
  s.port = uint16_t(u32(o, "port"));
  s.protocol = choice<Protocol>(str(o, "protocol"), {{"tcp", Protocol::tcp}, {"udp", Protocol::udp}});
  s.nic = str(o, "nic");
  s.pool = str(o, "localAddressPool");
  s.scheduler = choice<SchedulerKind>(str(o, "scheduler"),
                                      {{"rr", SchedulerKind::rr}, {"wrr", SchedulerKind::wrr}, {"lc", SchedulerKind::lc},
                                       {"wlc", SchedulerKind::wlc}, {"sh", SchedulerKind::sh}, {"mh", SchedulerKind::mh}});
  read_service_settings(o, s);
  s.real_servers = list<RealServerConfig>(o, "realServers", [](Napi::Value v) {
    Napi::Object r = v.As<Napi::Object>();
    return RealServerConfig{str(r, "name"), address(r.Get("address")), uint16_t(u32(r, "port")), u32(r, "weight"),
                            flag(r, "enabled"), flag(r, "healthy"), u32(r, "maxConnections")};
  });
  if (o.Get("accessControl").IsObject()) {
    Napi::Object access = o.Get("accessControl").As<Napi::Object>();
    if (access.Has("allow")) s.allow = list<Prefix>(access, "allow", prefix);
    if (access.Has("deny")) s.deny = list<Prefix>(access, "deny", prefix);
  }
  return s;
}

std::vector<std::string> strings_from_js(const Napi::Array& js) {
  std::vector<std::string> out;
  out.reserve(js.Length());
  for (uint32_t i = 0; i < js.Length(); ++i) out.push_back(js.Get(i).As<Napi::String>().Utf8Value());
  return out;
}

Config config_from_js(const Napi::Object& js) {
  Config c;
  c.generation = uint64_t(js.Get("generation").As<Napi::Number>().Int64Value());
  c.nics = list<NicConfig>(js, "nics", [](Napi::Value v) {
    Napi::Object o = v.As<Napi::Object>();
    NicConfig n;
    n.name = str(o, "name");
    n.device = str(o, "device");
    n.networks = list<Prefix>(o, "networks", prefix);
    if (o.Get("gateway").IsString()) n.gateway = address(o.Get("gateway"));
    n.probe = prefix(o.Get("probe"));
    n.probe6 = prefix(o.Get("probe6"));
    n.mtu = uint16_t(u32(o, "mtu"));
    return n;
  });
  c.routes = list<RouteConfig>(js, "routes", [](Napi::Value v) {
    Napi::Object o = v.As<Napi::Object>();
    return RouteConfig{str(o, "name"), prefix(o.Get("prefix")), address(o.Get("via")), str(o, "nic")};
  });
  c.pools = list<PoolConfig>(js, "pools", [](Napi::Value v) {
    Napi::Object o = v.As<Napi::Object>();
    PoolConfig p{str(o, "name"), str(o, "nic"), list<Address>(o, "addresses", address), uint16_t(u32(o, "portMin")),
                 uint16_t(u32(o, "portMax"))};
    if (o.Has("peerAddresses")) p.peer_addresses = list<Address>(o, "peerAddresses", address);
    return p;
  });
  c.services = list<ServiceConfig>(js, "services", [](Napi::Value v) { return service_from_js(v.As<Napi::Object>()); });
  if (js.Get("sync").IsObject()) {
    Napi::Object sync = js.Get("sync").As<Napi::Object>();
    c.sync = SyncSettings{flag(sync, "enabled"), flag(sync, "backup")};
  }
  return c;
}

SessionFilter filter_from_js(const Napi::Object& js, const Dataplane& dataplane) {
  SessionFilter f;
  if (js.Get("service").IsString()) {
    std::string service = str(js, "service");
    f.service_id = dataplane.service_id(service);
    if (js.Get("server").IsString()) f.backend_id = dataplane.backend_id(service, str(js, "server"));
  }
  if (js.Get("clientAddress").IsString()) f.client_address = address(js.Get("clientAddress"));
  if (js.Get("protocol").IsNumber()) f.protocol = uint8_t(u32(js, "protocol"));
  return f;
}

Napi::Array errors_to_js(Napi::Env env, const std::vector<ApplyError>& errors) {
  Napi::Array out = Napi::Array::New(env, errors.size());
  for (uint32_t i = 0; i < errors.size(); ++i) {
    Napi::Object e = Napi::Object::New(env);
    e.Set("field", errors[i].field);
    e.Set("message", errors[i].message);
    out.Set(i, e);
  }
  return out;
}

namespace {

// A 64-bit counter of struct S and the name JavaScript sees it by.
template <class S>
struct Field {
  const char* name;
  uint64_t S::*member;
};

template <class S, size_t N>
Napi::Object fields_to_js(Napi::Env env, const S& s, const Field<S> (&fields)[N]) {
  Napi::Object o = Napi::Object::New(env);
  for (const Field<S>& f : fields) o.Set(f.name, double(s.*(f.member)));
  return o;
}

Napi::Object port_counters(Napi::Env env, const PortCounters& c) {
  static const Field<PortCounters> fields[] = {
      {"rxPackets", &PortCounters::rx_packets}, {"rxBytes", &PortCounters::rx_bytes},
      {"txPackets", &PortCounters::tx_packets}, {"txBytes", &PortCounters::tx_bytes},
      {"toKernel", &PortCounters::to_kernel},   {"fromKernel", &PortCounters::from_kernel},
      {"arpIn", &PortCounters::arp_in},         {"arpOut", &PortCounters::arp_out},
      {"ndIn", &PortCounters::nd_in},           {"ndOut", &PortCounters::nd_out},
      {"icmpEcho", &PortCounters::icmp_echo}};
  Napi::Object o = fields_to_js(env, c, fields);
  Napi::Object drops = Napi::Object::New(env);
  for (int i = 0; i < static_cast<int>(Drop::count_); ++i) drops.Set(drop_reason_name(Drop(i)), double(c.drops[i]));
  o.Set("drops", drops);
  return o;
}

// Service and real-server counters share these fields.
template <class C>
Napi::Object traffic(Napi::Env env, const C& c) {
  static const Field<C> fields[] = {{"newSessions", &C::new_sessions}, {"packetsIn", &C::packets_in},
                                    {"packetsOut", &C::packets_out},   {"bytesIn", &C::bytes_in},
                                    {"bytesOut", &C::bytes_out}};
  return fields_to_js(env, c, fields);
}

Napi::Object device_counters(Napi::Env env, const NicStatus& n) {
  static const Field<NicStatus> fields[] = {{"rxPackets", &NicStatus::hw_rx_packets},
                                            {"txPackets", &NicStatus::hw_tx_packets},
                                            {"rxMissed", &NicStatus::hw_rx_missed},
                                            {"rxErrors", &NicStatus::hw_rx_errors},
                                            {"txErrors", &NicStatus::hw_tx_errors}};
  return fields_to_js(env, n, fields);
}

template <class T, class F>
Napi::Array array_of(Napi::Env env, const std::vector<T>& items, F&& convert) {
  Napi::Array array = Napi::Array::New(env, items.size());
  for (uint32_t i = 0; i < items.size(); ++i) array.Set(i, convert(items[i]));
  return array;
}

}  // namespace

Napi::Object nic_to_js(Napi::Env env, const NicStatus& n) {
  Napi::Object nic = Napi::Object::New(env);
  nic.Set("name", n.name);
  nic.Set("port", n.port);
  nic.Set("tap", n.tap);
  nic.Set("linkUp", n.link_up);
  nic.Set("speedMbps", n.speed_mbps);
  nic.Set("counters", port_counters(env, n.counters));
  nic.Set("device", device_counters(env, n));
  return nic;
}

namespace {

Napi::Object service_to_js(Napi::Env env, const ServiceStatus& svc) {
  Napi::Object service = traffic(env, svc.counters);
  service.Set("name", svc.name);
  // By reason, as drops are: new flows its accessControl refused.
  Napi::Object refused = Napi::Object::New(env);
  refused.Set("denied", double(svc.counters.refused_denied));
  refused.Set("not_allowed", double(svc.counters.refused_not_allowed));
  service.Set("refused", refused);
  service.Set("rateLimited", double(svc.counters.rate_limited));
  service.Set("realServers", array_of(env, svc.servers, [&](const ServiceStatus::Server& s) {
                Napi::Object server = traffic(env, s.counters);
                server.Set("name", s.name);
                server.Set("activeSessions", s.counters.active);
                server.Set("inactiveSessions", s.counters.inactive);
                server.Set("limited", double(s.counters.limited));
                return server;
              }));
  return service;
}

// Counts per bucket, not cumulative, the last one +Inf (beyond the last of boundsNs).
Napi::Object burst_to_js(Napi::Env env, const BurstHistogram& h) {
  Napi::Array bounds = Napi::Array::New(env, BurstHistogram::kBounds);
  for (uint32_t i = 0; i < BurstHistogram::kBounds; ++i) bounds.Set(i, double(burst_bound_ns(i)));
  Napi::Array counts = Napi::Array::New(env, BurstHistogram::kBounds + 1);
  uint64_t count = 0;
  for (uint32_t i = 0; i <= BurstHistogram::kBounds; ++i) {
    counts.Set(i, double(h.counts[i]));
    count += h.counts[i];
  }
  Napi::Object o = Napi::Object::New(env);
  o.Set("boundsNs", bounds);
  o.Set("counts", counts);
  o.Set("sumNs", double(h.sum_ns));
  o.Set("count", double(count));
  return o;
}

Napi::Object worker_to_js(Napi::Env env, const WorkerStatus& w) {
  static const Field<WorkerStatus> fields[] = {{"sessions", &WorkerStatus::sessions},
                                               {"redirectedOut", &WorkerStatus::redirected_out},
                                               {"redirectedIn", &WorkerStatus::redirected_in},
                                               {"loops", &WorkerStatus::loops},
                                               {"busyLoops", &WorkerStatus::busy_loops}};
  Napi::Object worker = fields_to_js(env, w, fields);
  worker.Set("id", w.id);
  worker.Set("lcore", w.lcore);
  worker.Set("burst", burst_to_js(env, w.burst));
  return worker;
}

Napi::Object sync_to_js(Napi::Env env, const SyncCounters& c) {
  static const Field<SyncCounters> fields[] = {{"eventsQueued", &SyncCounters::events_queued},
                                               {"ringOverflows", &SyncCounters::ring_overflows},
                                               {"installed", &SyncCounters::installed},
                                               {"updated", &SyncCounters::updated},
                                               {"closed", &SyncCounters::closed},
                                               {"takenOver", &SyncCounters::taken_over},
                                               {"takenOverPackets", &SyncCounters::taken_over_packets}};
  Napi::Object o = fields_to_js(env, c, fields);
  o.Set("peerSessions", double(c.peer_sessions));
  Napi::Object dropped = Napi::Object::New(env);
  for (int i = 0; i < static_cast<int>(SyncDrop::count_); ++i)
    dropped.Set(sync_drop_name(static_cast<SyncDrop>(i)), double(c.dropped[i]));
  o.Set("dropped", dropped);
  return o;
}

}  // namespace

Napi::Object status_to_js(Napi::Env env, const EngineStatus& s) {
  static const Field<EngineStatus> fields[] = {{"generation", &EngineStatus::generation},
                                               {"sessionsLive", &EngineStatus::sessions_live},
                                               {"sessionsExpired", &EngineStatus::sessions_expired},
                                               {"sessionsReset", &EngineStatus::sessions_reset}};
  static const Field<ClientAddressCounters> client_address[] = {
      {"toaAdded", &ClientAddressCounters::toa_added},
      {"toaFailed", &ClientAddressCounters::toa_failed},
      {"proxyHeaders", &ClientAddressCounters::proxy_headers},
      {"proxyOwnSegments", &ClientAddressCounters::proxy_own_segments},
      {"proxyFailed", &ClientAddressCounters::proxy_failed}};
  Napi::Object o = fields_to_js(env, s, fields);
  o.Set("clientAddress", fields_to_js(env, s.client_address, client_address));
  o.Set("sync", sync_to_js(env, s.sync));
  o.Set("nics", array_of(env, s.nics, [&](const NicStatus& n) { return nic_to_js(env, n); }));
  o.Set("services", array_of(env, s.services, [&](const ServiceStatus& v) { return service_to_js(env, v); }));
  o.Set("workers", array_of(env, s.workers, [&](const WorkerStatus& w) { return worker_to_js(env, w); }));
  return o;
}

Napi::Object session_to_js(Napi::Env env, const SessionRecord& s) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("protocol", s.protocol);
  o.Set("state", s.protocol == uint8_t(Protocol::udp) ? "udp" : tcp_state_name(TcpState(s.state)));
  o.Set("clientAddress", format_address(s.client_address));
  o.Set("clientPort", s.client_port);
  o.Set("virtualAddress", format_address(s.virtual_address));
  o.Set("virtualPort", s.virtual_port);
  o.Set("localAddress", format_address(s.local_address));
  o.Set("localPort", s.local_port);
  o.Set("serverAddress", format_address(s.server_address));
  o.Set("serverPort", s.server_port);
  o.Set("service", s.service);
  o.Set("server", s.server);
  o.Set("worker", s.worker);
  o.Set("fromPeer", s.from_peer);
  o.Set("expiresInMs", s.expires_in_ms);
  return o;
}

}  // namespace l4lb::binding

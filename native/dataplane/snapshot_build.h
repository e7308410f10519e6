// The steps of compiling a snapshot that both the whole compile (snapshot.cc) and the update of
// some services (snapshot_update.cc) take. Control thread only.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "snapshot.h"

namespace l4lb {

// The id of `key`, assigned if new; throws when the id space is full.
uint32_t assign_or_throw(IdMap& ids, const std::string& key, const char* what);

// Builds service `s` under `id`: its backends' ids and egresses (from `snap`'s routes), its pool
// (an index into `config.pools`, which `snap.pools` follows) and its scheduler, shared with
// `before` (the same service in the previous snapshot, or null) when its backends are unchanged.
std::shared_ptr<const Service> build_service(const Config& config, const ServiceConfig& s, uint32_t id,
                                             IdMap& backend_ids, const std::map<std::string, NicPorts>& ports,
                                             const Snapshot& snap, const Service* before);

// Appends the backends of `was` (a service of the previous snapshot) that took sessions and no
// longer do in `now`: gone, disabled, their service gone or disabled, or moved elsewhere.
void add_ended_backends(const Service& was, const Snapshot& now, std::vector<uint32_t>& ended);

// Sets each port's owned addresses (answered by ARP): the VIPs of its services and the own
// local addresses of its pools that lie in its connected networks, sorted, without repeats.
// An address outside them is routed to the node (BGP) and needs no ARP.
void index_owned(Snapshot& snap);

// Indexes every pool's own and peer addresses by address (by_local_address).
void index_local_addresses(Snapshot& snap);

// Adds `s` to the VIP, service-id and backend-id indexes; throws when its VIP, port and
// protocol belong to another service.
void index_service(Snapshot& snap, const Service& s, const IdMap& service_ids);

}  // namespace l4lb

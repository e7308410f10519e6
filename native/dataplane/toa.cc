// TOA option insertion and MSS lowering; the policy is in toa.h.
#include "toa.h"

#include <algorithm>
#include <cstring>

#include "l4_grow.h"
#include "tcp_options.h"

namespace l4lb {

namespace {

constexpr uint16_t kMaxOptions = kTcpMaxHeader - kTcpFixedHeader;

// How much of the segment's own options survives, from least to most pruned.
enum class Keep : uint8_t { everything, no_padding, no_padding_no_sack };

// The segment's options as `keep` allows, then TOA, padded with End of Option List to a
// multiple of 4 and to at least the old options' length (so the header never shrinks).
// Returns the options' length, or 0 when they do not fit or the old ones are malformed.
uint16_t rebuild_options(const uint8_t* header, uint16_t header_length, Keep keep, const uint8_t* toa, uint8_t* out) {
  const uint8_t toa_bytes = toa[1];
  uint16_t n = 0, end = kTcpFixedHeader;
  bool fits = true;
  bool well_formed = for_each_tcp_option(header, header_length, [&](uint8_t kind, uint16_t offset, uint16_t length) {
    end = uint16_t(offset + length);
    if (keep == Keep::everything) return;
    if (kind == kTcpOptionNop || (keep == Keep::no_padding_no_sack && kind == kTcpOptionSack)) return;
    if (n + length > kMaxOptions) {
      fits = false;
      return;
    }
    std::memcpy(out + n, header + offset, length);
    n = uint16_t(n + length);
  });
  if (!well_formed) return 0;
  if (keep == Keep::everything) {
    n = uint16_t(end - kTcpFixedHeader);
    if (n > kMaxOptions) return 0;
    std::memcpy(out, header + kTcpFixedHeader, n);
  }
  if (!fits || n + toa_bytes > kMaxOptions) return 0;
  std::memcpy(out + n, toa, toa_bytes);
  n = uint16_t(n + toa_bytes);
  uint16_t padded = std::max<uint16_t>((n + 3) & ~3u, uint16_t(header_length - kTcpFixedHeader));
  std::memset(out + n, kTcpOptionEnd, padded - n);
  return padded;
}

}  // namespace

ToaResult insert_toa(rte_mbuf* m, IpFrame& f, const Address& client, uint16_t client_port, uint16_t mtu) {
  const auto* header = reinterpret_cast<const uint8_t*>(f.tcp());
  uint16_t header_length = uint16_t((f.tcp()->data_off >> 4) * 4u);
  uint8_t toa[kToaLength6] = {kTcpOptionToa, toa_length(client)};
  rte_be16_t port = rte_cpu_to_be_16(client_port);
  std::memcpy(toa + 2, &port, 2);
  if (client.is_v4()) {
    rte_be32_t address = client.v4_be();
    std::memcpy(toa + 4, &address, 4);
  } else {
    client.copy_to(toa + 4);
  }

  uint8_t head[kTcpMaxHeader];
  uint16_t options = 0;
  Keep keep = Keep::everything;
  for (Keep k : {Keep::everything, Keep::no_padding, Keep::no_padding_no_sack}) {
    keep = k;
    if ((options = rebuild_options(header, header_length, k, toa, head + kTcpFixedHeader))) break;
  }
  if (!options) return ToaResult::no_room;
  std::memcpy(head, header, kTcpFixedHeader);
  uint16_t length = uint16_t(kTcpFixedHeader + options);
  reinterpret_cast<rte_tcp_hdr*>(head)->data_off = uint8_t(((length / 4) << 4) | (f.tcp()->data_off & 0x0f));
  if (!replace_l4_head(m, f, header_length, head, length, mtu)) return ToaResult::no_room;
  return keep == Keep::everything ? ToaResult::added : ToaResult::added_after_pruning;
}

bool lower_mss(rte_tcp_hdr* tcp, uint16_t by) {
  auto* header = reinterpret_cast<uint8_t*>(tcp);
  uint16_t header_length = uint16_t((tcp->data_off >> 4) * 4u);
  int at = -1;
  for_each_tcp_option(header, header_length, [&](uint8_t kind, uint16_t offset, uint16_t length) {
    if (kind == kTcpOptionMss && length == 4) at = offset + 2;
  });
  if (at < 0) return false;
  rte_be16_t value;
  std::memcpy(&value, header + at, 2);
  uint16_t mss = rte_be_to_cpu_16(value);
  if (mss <= by) return false;
  rte_be16_t lowered = rte_cpu_to_be_16(uint16_t(mss - by));
  tcp->cksum = patch_checksummed(header, uint32_t(at), &lowered, 2, tcp->cksum);
  return true;
}

}  // namespace l4lb

#include "p2p/ban_list.h"

namespace automata::p2p {

void BanList::extend(std::map<std::string, Clock::time_point>& bans, const std::string& key,
                     Clock::time_point until) {
  if (key.empty()) return;
  auto [it, inserted] = bans.emplace(key, until);
  if (!inserted && it->second < until) it->second = until;
}

std::optional<BanList::Clock::time_point> BanList::lookup(const std::map<std::string, Clock::time_point>& bans,
                                                          const std::string& key, Clock::time_point now) {
  const auto it = bans.find(key);
  if (it == bans.end() || it->second <= now) return std::nullopt;
  return it->second;
}

void BanList::ban(const std::string& peer_id, const std::string& ip, Clock::time_point until) {
  extend(ids_, peer_id, until);
  extend(ips_, ip, until);
}

std::optional<BanList::Clock::time_point> BanList::id_banned_until(const std::string& peer_id,
                                                                   Clock::time_point now) const {
  return lookup(ids_, peer_id, now);
}

std::optional<BanList::Clock::time_point> BanList::ip_banned_until(const std::string& ip,
                                                                   Clock::time_point now) const {
  return lookup(ips_, ip, now);
}

}  // namespace automata::p2p

// Bans by peer id and by IP address, each with an expiry on the steady
// clock. Not thread-safe: the network guards it with its mutex.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>

namespace automata::p2p {

class BanList {
 public:
  using Clock = std::chrono::steady_clock;

  // Bans the id (when not empty) and the IP (when not empty) until `until`.
  // A ban that already lasts longer is kept.
  void ban(const std::string& peer_id, const std::string& ip, Clock::time_point until);

  // The end of the id's ban, or nullopt when it is not banned at `now`.
  std::optional<Clock::time_point> id_banned_until(const std::string& peer_id, Clock::time_point now) const;
  std::optional<Clock::time_point> ip_banned_until(const std::string& ip, Clock::time_point now) const;

 private:
  static void extend(std::map<std::string, Clock::time_point>& bans, const std::string& key, Clock::time_point until);
  static std::optional<Clock::time_point> lookup(const std::map<std::string, Clock::time_point>& bans,
                                                 const std::string& key, Clock::time_point now);

  std::map<std::string, Clock::time_point> ids_;
  std::map<std::string, Clock::time_point> ips_;
};

}  // namespace automata::p2p

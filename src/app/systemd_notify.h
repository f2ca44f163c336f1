// The sd_notify protocol, for Type=notify units: READY=1 once the daemon serves, WATCHDOG=1
// from the scheduler loop (so a hung scheduler stops feeding systemd's watchdog), STATUS=
// lines, RELOADING=1 and STOPPING=1. Without NOTIFY_SOCKET every call does nothing.
// Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <string>

#include "common/clock.h"

namespace hdm {

class SystemdNotifier {
 public:
  SystemdNotifier();

  bool enabled() const { return enabled_; }
  // The watchdog period systemd asked for (WATCHDOG_USEC), zero when none.
  std::chrono::microseconds watchdog_period() const { return watchdog_; }

  void Ready(const std::string& status);
  void Status(const std::string& status);
  // Sends WATCHDOG=1 when half the watchdog period has passed since the last one. `now` is on
  // the monotonic clock: a step of the wall clock must not stop the pings (systemd would kill
  // the service) nor burst them.
  void Heartbeat(MonoTime now);
  void Reloading();
  void ReloadDone(const std::string& status);
  void Stopping();

 private:
  void Send(const std::string& message);

  bool enabled_ = false;
  std::chrono::microseconds watchdog_{0};
  static constexpr MonoTime::duration::rep kNever = MonoTime::duration::min().count();
  std::atomic<MonoTime::duration::rep> last_ping_{kNever};  // monotonic; kNever before the first
};

}  // namespace hdm

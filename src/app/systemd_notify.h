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
  // Sends WATCHDOG=1 when half the watchdog period has passed since the last one.
  void Heartbeat(SysTime now);
  void Reloading();
  void ReloadDone(const std::string& status);
  void Stopping();

 private:
  void Send(const std::string& message);

  bool enabled_ = false;
  std::chrono::microseconds watchdog_{0};
  std::atomic<SysTime::duration::rep> last_ping_{0};
};

}  // namespace hdm

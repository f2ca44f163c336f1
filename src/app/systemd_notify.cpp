#include "app/systemd_notify.h"

#include <systemd/sd-daemon.h>

#include <cstdlib>

namespace hdm {

SystemdNotifier::SystemdNotifier() {
  const char* socket = std::getenv("NOTIFY_SOCKET");
  enabled_ = socket != nullptr && *socket != '\0';
  uint64_t usec = 0;
  if (enabled_ && sd_watchdog_enabled(0, &usec) > 0) watchdog_ = std::chrono::microseconds(usec);
}

void SystemdNotifier::Send(const std::string& message) {
  if (enabled_) sd_notify(0, message.c_str());
}

void SystemdNotifier::Ready(const std::string& status) { Send("READY=1\nSTATUS=" + status); }

void SystemdNotifier::Status(const std::string& status) { Send("STATUS=" + status); }

void SystemdNotifier::Heartbeat(MonoTime now) {
  if (!enabled_ || watchdog_.count() == 0) return;
  const auto last = last_ping_.load();
  if (last != kNever && now - MonoTime(MonoTime::duration(last)) < watchdog_ / 2) return;
  last_ping_.store(now.time_since_epoch().count());
  Send("WATCHDOG=1");
}

void SystemdNotifier::Reloading() { Send("RELOADING=1\nSTATUS=reloading the config"); }

void SystemdNotifier::ReloadDone(const std::string& status) { Send("READY=1\nSTATUS=" + status); }

void SystemdNotifier::Stopping() { Send("STOPPING=1\nSTATUS=stopping"); }

}  // namespace hdm

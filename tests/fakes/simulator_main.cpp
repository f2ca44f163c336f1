// hotdata-simulator: a simulated Hotdata workspace for demos and benchmarks, served by the fake
// API of the integration tests. The first stdout line is
// "hotdata-simulator listening on http://127.0.0.1:PORT"; SIGINT or SIGTERM stops it (exit 0).
#include <signal.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <variant>

#include "fakes/fake_hotdata.h"
#include "fakes/sim_workspace.h"

namespace {

constexpr const char* kUsage = R"(usage: hotdata-simulator [flags]
  --listen-port P    port on 127.0.0.1 (default 0: any free port)
  --url-file F       write the base URL to F once listening
  --connections N    number of connections (default 12)
  --tls              serve HTTPS with a self-signed certificate written to a temp dir
  --token T          require "Authorization: Bearer T" (default: no check)
  --latency-ms L     every health check answers L ms late and reports L ms more (default 0)
  --seed S           seed of the simulated data and jitter (default 1)
  --static           all healthy, nothing changes (for benchmarks)
  --control-stdin    read commands from stdin, one per line: "unhealthy ID" or "healthy ID";
                     each is answered on stdout by "applied ID UNIX_SECONDS" (for benchmarks);
                     the connection keeps that health (the script no longer changes it)
  --name ID=NAME     name connection ID (conn_0001...) NAME instead of the generated name
                     (repeatable; e.g. a name with markup, for the status page's tests)
  --log-purges F     append "UNIX_MS STATUS PATH" to F for every purge answered (PATH raw,
                     percent-encoded; one flushed line each; for reliability tests)
  --help             this text
)";

struct Flags {
  int port = 0;
  std::string url_file;
  std::string purge_log;
  bool tls = false;
  bool control_stdin = false;
  std::string token;
  hdm::fake::SimOptions sim;
};

std::optional<long> ParseNumber(const std::string& text, long min, long max) {
  char* end = nullptr;
  errno = 0;
  const long value = std::strtol(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno != 0 || value < min || value > max) {
    return std::nullopt;
  }
  return value;
}

// Returns the flags, or the exit code when the program must end (--help: 0, a bad flag: 2).
std::variant<Flags, int> ParseFlags(int argc, char** argv) {
  Flags flags;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::cout << kUsage;
      return 0;
    }
    if (arg == "--tls") {
      flags.tls = true;
      continue;
    }
    if (arg == "--static") {
      flags.sim.evolve = false;
      continue;
    }
    if (arg == "--control-stdin") {
      flags.control_stdin = true;
      continue;
    }
    const bool takes_value = arg == "--listen-port" || arg == "--connections" ||
                             arg == "--latency-ms" || arg == "--seed" || arg == "--url-file" ||
                             arg == "--token" || arg == "--log-purges" || arg == "--name";
    if (!takes_value) {
      std::cerr << "hotdata-simulator: unknown flag " << arg << "\n" << kUsage;
      return 2;
    }
    if (i + 1 >= argc) {
      std::cerr << "hotdata-simulator: " << arg << " needs a value\n";
      return 2;
    }
    const std::string value = argv[++i];
    std::optional<long> number = 0;
    if (arg == "--listen-port") {
      number = ParseNumber(value, 0, 65535);
      if (number) flags.port = static_cast<int>(*number);
    } else if (arg == "--connections") {
      number = ParseNumber(value, 1, 100'000);
      if (number) flags.sim.connections = static_cast<int>(*number);
    } else if (arg == "--latency-ms") {
      number = ParseNumber(value, 0, 60'000);
      if (number) flags.sim.latency = std::chrono::milliseconds(*number);
    } else if (arg == "--seed") {
      number = ParseNumber(value, 0, 0xffffffffL);
      if (number) flags.sim.seed = static_cast<uint32_t>(*number);
    } else if (arg == "--url-file") {
      flags.url_file = value;
    } else if (arg == "--log-purges") {
      flags.purge_log = value;
    } else if (arg == "--name") {
      const auto eq = value.find('=');
      if (eq == std::string::npos || eq == 0) {
        number = std::nullopt;
      } else {
        flags.sim.names[value.substr(0, eq)] = value.substr(eq + 1);
      }
    } else {
      flags.token = value;
    }
    if (!number) {
      std::cerr << "hotdata-simulator: invalid value for " << arg << ": " << value << "\n";
      return 2;
    }
  }
  return flags;
}

// Written then renamed, so that a reader polling the file never sees half a URL.
bool WriteUrlFile(const std::string& path, const std::string& url) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << url << "\n";
    if (!out.flush()) return false;
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  return !ec;
}

// The FakeServerOptions::on_answered hook of --log-purges: one line per purge (DELETE .../cache)
// answered, appended and flushed under a mutex, so that a reader sees whole lines even if the
// simulator is killed. nullopt when `path` cannot be opened.
using AnswerHook = decltype(hdm::fake::FakeServerOptions::on_answered);
std::optional<AnswerHook> PurgeLogger(const std::string& path) {
  struct Log {
    std::mutex mu;
    std::ofstream out;
  };
  auto log = std::make_shared<Log>();
  log->out.open(path, std::ios::app);
  if (!log->out) return std::nullopt;
  return [log](const std::string& method, const std::string& raw_path, int status) {
    if (method != "DELETE" || !raw_path.ends_with("/cache")) return;
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
    std::lock_guard lock(log->mu);
    log->out << ms << " " << status << " " << raw_path << std::endl;
  };
}

// Applies "unhealthy ID" / "healthy ID" lines from stdin until end of file, through `evolution`
// (which then leaves that connection alone). Detached: the process exits without joining it.
void StartControl(hdm::fake::SimEvolution& evolution) {
  std::thread([&evolution] {
    std::string line;
    while (std::getline(std::cin, line)) {
      std::istringstream words(line);
      std::string verb;
      std::string id;
      words >> verb >> id;
      const bool healthy = verb == "healthy";
      if ((verb != "unhealthy" && verb != "healthy") ||
          !evolution.Override(
              id, healthy,
              healthy ? std::nullopt : std::optional<std::string>("simulated outage"))) {
        std::cout << "error " << line << std::endl;
        continue;
      }
      const double now =
          std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
              .count();
      std::cout << "applied " << id << " " << std::fixed << std::setprecision(6) << now
                << std::endl;
    }
  }).detach();
}

}  // namespace

int main(int argc, char** argv) {
  auto parsed = ParseFlags(argc, argv);
  if (const int* code = std::get_if<int>(&parsed)) return *code;
  const Flags flags = std::get<Flags>(parsed);

  // Blocked before any thread starts, so that only the wait below receives them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  hdm::fake::FakeServerOptions options;
  options.expected_token = flags.token;
  options.keep_alive_timeout_seconds = 2;  // bounds how long a stop waits for idle clients
  // An idle keep-alive connection holds a thread: 64 for the monitor's health checks at the
  // benchmarks' concurrency, and spare ones so that its discovery and purges are not queued
  // behind them (a queued TLS handshake fails).
  options.threads = 64 + 16;
  options.record_requests = false;  // a long run would keep every request
  if (!flags.purge_log.empty()) {
    auto logger = PurgeLogger(flags.purge_log);
    if (!logger) {
      std::cerr << "hotdata-simulator: cannot open " << flags.purge_log << "\n";
      return 1;
    }
    options.on_answered = std::move(*logger);
  }
  std::string cert_dir;
  if (flags.tls) {
    char dir_template[] = "/tmp/hotdata-simulator-XXXXXX";
    if (!mkdtemp(dir_template)) {
      std::perror("hotdata-simulator: mkdtemp");
      return 1;
    }
    cert_dir = dir_template;
    if (auto written = hdm::fake::WriteSelfSignedCert(cert_dir); !written) {
      std::cerr << "hotdata-simulator: " << written.error() << "\n";
      return 1;
    }
    options.cert_file = cert_dir + "/cert.pem";
    options.key_file = cert_dir + "/key.pem";
  }

  hdm::fake::FakeHotdataServer server(options);
  for (auto& connection : hdm::fake::BuildWorkspace(flags.sim)) server.Upsert(connection);
  hdm::fake::SimEvolution evolution(server, flags.sim);
  if (server.Start(flags.port) < 0) {
    std::cerr << "hotdata-simulator: cannot listen on 127.0.0.1:" << flags.port << "\n";
    return 1;
  }
  std::cout << "hotdata-simulator listening on " << server.base_url() << std::endl;
  if (flags.tls) std::cout << "hotdata-simulator certificate: " << options.cert_file << std::endl;
  if (!flags.url_file.empty() && !WriteUrlFile(flags.url_file, server.base_url())) {
    std::cerr << "hotdata-simulator: cannot write " << flags.url_file << "\n";
    return 1;
  }

  if (flags.control_stdin) StartControl(evolution);
  // The main thread both ticks the evolution once a second and waits for the stop signal.
  const auto start = std::chrono::steady_clock::now();
  const timespec one_second{1, 0};
  while (true) {
    const int signal = sigtimedwait(&stop_signals, nullptr, &one_second);
    if (signal == SIGINT || signal == SIGTERM) break;
    evolution.Tick(
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - start));
  }
  server.Stop();
  if (!cert_dir.empty()) std::filesystem::remove_all(cert_dir);
  std::cout << "hotdata-simulator stopped" << std::endl;
  // The --control-stdin thread may be blocked reading stdin with its lock held, and exit()'s
  // stdio cleanup waits for that lock on Debian 13 (glibc 2.41): the process would hang until
  // stdin closes. Nothing is left to flush or destroy.
  if (flags.control_stdin) std::_Exit(0);
  return 0;
}

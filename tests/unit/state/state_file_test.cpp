#include "state/state_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace hdm::state {
namespace {

namespace fs = std::filesystem;

const SysTime kT0 = SysTime(std::chrono::seconds(1'700'000'000));

class StateFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("hdm-state-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = (dir_ / "state.json").string();
  }
  void TearDown() override {
    fs::permissions(dir_, fs::perms::owner_all, fs::perm_options::add);
    fs::remove_all(dir_);
  }
  void Write(const std::string& content) { std::ofstream(path_, std::ios::binary) << content; }
  std::string Read(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  std::vector<std::string> Files() {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir_)) out.push_back(e.path().filename());
    std::sort(out.begin(), out.end());
    return out;
  }

  fs::path dir_;
  std::string path_;
};

TEST_F(StateFileTest, SaveThenLoadRoundTripsTheSections) {
  const nlohmann::json sections = {{"policy", {{"a", 1}, {"b", {"x", "y"}}}}, {"other", nullptr}};
  ASSERT_TRUE(Save(path_, sections, kT0).has_value());
  EXPECT_EQ(Files(), std::vector<std::string>{"state.json"}) << "no temp file left behind";
  const auto on_disk = nlohmann::json::parse(Read(path_));
  EXPECT_EQ(on_disk["version"], kStateVersion);
  EXPECT_EQ(on_disk["saved_at"], "2023-11-14T22:13:20Z");
  auto loaded = Load(path_, kT0);
  ASSERT_TRUE(loaded.has_value()) << loaded.error().message;
  EXPECT_EQ(*loaded, sections);
  EXPECT_EQ(fs::status(path_).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
}

TEST_F(StateFileTest, SaveReplacesTheOldFile) {
  ASSERT_TRUE(Save(path_, {{"n", 1}}, kT0).has_value());
  ASSERT_TRUE(Save(path_, {{"n", 2}}, kT0).has_value());
  EXPECT_EQ((*Load(path_, kT0))["n"], 2);
}

TEST_F(StateFileTest, MissingFileIsAnEmptyStateNotAnError) {
  auto loaded = Load(path_, kT0);
  ASSERT_TRUE(loaded.has_value());
  EXPECT_EQ(*loaded, nlohmann::json::object());
}

TEST_F(StateFileTest, UnusableFilesAreSetAsideAndReported) {
  struct Case {
    std::string content;
    std::string why;
    std::string kind;  // of the set-aside name
  };
  const std::vector<Case> cases = {
      {"{\"version\": 1, \"policy\": ", "not valid JSON", "corrupt"},
      {"", "not valid JSON", "corrupt"},
      {"[1, 2]", "not a JSON object", "corrupt"},
      {"{\"policy\": {}}", "no \"version\" field", "corrupt"},
      {"{\"version\": \"1\"}", "version \"1\" is not a version", "corrupt"},
      {"{\"version\": 2}",
       "version 2 is newer than this build's version 1 and not readable by it (readable_by absent)",
       "v2"},
      {"{\"version\": 3, \"readable_by\": 2}",
       "version 3 is newer than this build's version 1 and not readable by it (readable_by 2)",
       "v3"},
      {"{\"version\": 0}",
       "version 0 is older than this build's version 1 and has no migration from version 0", "v0"},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(cases[i].content);
    Write(cases[i].content);
    const auto written_at = fs::last_write_time(path_);
    const SysTime now = kT0 + std::chrono::seconds(i);
    auto loaded = Load(path_, now);
    ASSERT_FALSE(loaded.has_value());
    const std::string aside = path_ + "." + cases[i].kind + "-" + std::to_string(1'700'000'000 + i);
    EXPECT_EQ(loaded.error().set_aside_path, aside);
    EXPECT_EQ(loaded.error().message, path_ + ": " + cases[i].why + "; set aside as " + aside +
                                          ", starting from empty state");
    EXPECT_TRUE(loaded.error().unusable);
    EXPECT_FALSE(loaded.error().read_failed);
    ASSERT_TRUE(loaded.error().modified.has_value());
    EXPECT_EQ(std::chrono::file_clock::to_sys(written_at).time_since_epoch(),
              loaded.error().modified->time_since_epoch())
        << "the file's own time, for the hold's end";
    EXPECT_FALSE(fs::exists(path_));
    EXPECT_EQ(Read(aside), cases[i].content) << "never silently lost";
  }
}

TEST_F(StateFileTest, SaveWritesTheVersionAndTheOldestVersionThatMayReadIt) {
  ASSERT_TRUE(Save(path_, {{"n", 1}}, kT0).has_value());
  const auto on_disk = nlohmann::json::parse(Read(path_));
  EXPECT_EQ(on_disk["version"], 1);
  EXPECT_EQ(on_disk["readable_by"], 1);
  std::string note = "unchanged";
  auto loaded = Load(path_, kT0, &note);
  ASSERT_TRUE(loaded.has_value());
  EXPECT_EQ(*loaded, (nlohmann::json{{"n", 1}})) << "the envelope's fields are not sections";
  EXPECT_EQ(note, "") << "a file of this version needs no note";
}

// What a release of version 1 shipped before "readable_by" existed reads as it always did.
TEST_F(StateFileTest, AFileOfThisVersionWithoutReadableByIsRead) {
  Write("{\"version\": 1, \"saved_at\": \"2023-11-14T22:13:20Z\", \"policy\": {}}");
  auto loaded = Load(path_, kT0);
  ASSERT_TRUE(loaded.has_value()) << loaded.error().message;
  EXPECT_EQ(*loaded, (nlohmann::json{{"policy", nlohmann::json::object()}}));
}

// A newer release that only added fields says so with readable_by: this build reads what it
// knows, says so, and leaves the file in place (its next save writes its own version).
TEST_F(StateFileTest, ANewerVersionReadableByThisOneIsReadWithANote) {
  Write(R"({"version": 4, "readable_by": 1, "saved_at": "x", "policy": {"a": 1}, "new": {}})");
  std::string note;
  auto loaded = Load(path_, kT0, &note);
  ASSERT_TRUE(loaded.has_value()) << loaded.error().message;
  EXPECT_EQ(*loaded, (nlohmann::json{{"policy", {{"a", 1}}}, {"new", nlohmann::json::object()}}));
  EXPECT_EQ(note,
            "version 4, written by a newer hotdata-monitor and readable by version 1: reading the "
            "fields that version 1 knows, and saving it as version 1");
  EXPECT_EQ(Files(), std::vector<std::string>{"state.json"});
}

// The migration chain, with a synthetic format: no release needed a migration yet.
class WithFormat {
 public:
  explicit WithFormat(Format format) : format_(std::move(format)) {
    previous_ = SetFormatForTesting(&format_);
  }
  ~WithFormat() { SetFormatForTesting(previous_); }

 private:
  Format format_;
  const Format* previous_ = nullptr;
};

// Version 3's "policy" section renamed "cooldowns" to "cooldown_list" (say); version 2 only
// added a section.
Format ThreeVersions() {
  return Format{
      .version = 3,
      .migrations = {
          {.from = 1,
           .apply = [](nlohmann::json s) -> std::expected<nlohmann::json, std::string> {
             s["added_in_2"] = true;
             return s;
           }},
          {.from = 2, .apply = [](nlohmann::json s) -> std::expected<nlohmann::json, std::string> {
             if (!s.contains("policy")) return std::unexpected("no policy section");
             s["policy"]["cooldown_list"] = s["policy"]["cooldowns"];
             s["policy"].erase("cooldowns");
             return s;
           }}}};
}

TEST_F(StateFileTest, AnOlderVersionIsMigratedStepByStep) {
  WithFormat format(ThreeVersions());
  Write(R"({"version": 1, "policy": {"cooldowns": [1, 2]}})");
  std::string note;
  auto loaded = Load(path_, kT0, &note);
  ASSERT_TRUE(loaded.has_value()) << loaded.error().message;
  EXPECT_EQ(*loaded,
            (nlohmann::json{{"policy", {{"cooldown_list", {1, 2}}}}, {"added_in_2", true}}));
  EXPECT_EQ(note, "version 1 migrated to version 3");
  EXPECT_EQ(Files(), std::vector<std::string>{"state.json"}) << "a migrated file stays in place";

  Write(R"({"version": 2, "policy": {"cooldowns": []}})");
  loaded = Load(path_, kT0, &note);
  ASSERT_TRUE(loaded.has_value()) << loaded.error().message;
  EXPECT_EQ(*loaded, (nlohmann::json{{"policy", {{"cooldown_list", nlohmann::json::array()}}}}))
      << "a version 2 file takes only the migrations from 2 on";
  EXPECT_EQ(note, "version 2 migrated to version 3");
}

TEST_F(StateFileTest, AFailedOrMissingMigrationMakesTheFileUnusable) {
  WithFormat format(ThreeVersions());
  Write(R"({"version": 2})");
  auto loaded = Load(path_, kT0);
  ASSERT_FALSE(loaded.has_value());
  EXPECT_TRUE(loaded.error().unusable);
  EXPECT_EQ(loaded.error().set_aside_path, path_ + ".v2-1700000000");
  EXPECT_NE(loaded.error().message.find(
                "version 2 could not be migrated from version 2: no policy section"),
            std::string::npos)
      << loaded.error().message;

  Write(R"({"version": 0, "policy": {}})");
  loaded = Load(path_, kT0);
  ASSERT_FALSE(loaded.has_value());
  EXPECT_NE(
      loaded.error().message.find(
          "version 0 is older than this build's version 3 and has no migration from version 0"),
      std::string::npos)
      << loaded.error().message;
  EXPECT_EQ(loaded.error().set_aside_path, path_ + ".v0-1700000000");
}

TEST_F(StateFileTest, SetAsideNeverOverwritesAnEarlierCorruptFile) {
  Write("first");
  ASSERT_FALSE(Load(path_, kT0).has_value());
  Write("second");
  auto second = Load(path_, kT0);
  ASSERT_FALSE(second.has_value());
  EXPECT_EQ(second.error().set_aside_path, path_ + ".corrupt-1700000000-1");
  EXPECT_EQ(Read(path_ + ".corrupt-1700000000"), "first");
  EXPECT_EQ(Read(path_ + ".corrupt-1700000000-1"), "second");
}

TEST_F(StateFileTest, UnwritableDirectoryGivesAnErrorValue) {
  if (::geteuid() == 0) GTEST_SKIP() << "root writes anywhere";
  ASSERT_TRUE(Save(path_, {{"n", 1}}, kT0).has_value());
  fs::permissions(dir_, fs::perms::owner_read | fs::perms::owner_exec);
  auto saved = Save(path_, {{"n", 2}}, kT0);
  ASSERT_FALSE(saved.has_value());
  EXPECT_NE(saved.error().find("cannot write " + path_ + ".tmp"), std::string::npos)
      << saved.error();
  fs::permissions(dir_, fs::perms::owner_all);
  EXPECT_EQ((*Load(path_, kT0))["n"], 1) << "the old file is intact";
}

TEST_F(StateFileTest, MissingDirectoryGivesAnErrorValue) {
  auto saved = Save((dir_ / "nope" / "state.json").string(), {{"n", 1}}, kT0);
  ASSERT_FALSE(saved.has_value());
  EXPECT_NE(saved.error().find("No such file or directory"), std::string::npos) << saved.error();
}

TEST_F(StateFileTest, UnreadableFileIsReportedNotFatal) {
  if (::geteuid() == 0) GTEST_SKIP() << "root reads anything";
  Write("{\"version\": 1}");
  fs::permissions(path_, fs::perms::none);
  auto loaded = Load(path_, kT0);
  ASSERT_FALSE(loaded.has_value());
  EXPECT_NE(loaded.error().message.find("cannot read: Permission denied"), std::string::npos)
      << loaded.error().message;
}

TEST_F(StateFileTest, PathBelowARegularFileGivesAnErrorValue) {
  Write("a file, not a directory");
  auto saved = Save(path_ + "/state.json", {{"n", 1}}, kT0);
  ASSERT_FALSE(saved.has_value());
  EXPECT_EQ(saved.error(), "cannot write " + path_ + "/state.json.tmp: Not a directory");
}

// Only a file that is not valid state is set aside: a directory in its place cannot be read,
// which is an error to report, never a reason to move it.
TEST_F(StateFileTest, DirectoryInPlaceOfTheFileIsAReadErrorAndStaysInPlace) {
  fs::create_directories(path_);
  auto loaded = Load(path_, kT0);
  ASSERT_FALSE(loaded.has_value());
  EXPECT_EQ(loaded.error().message, path_ + ": cannot read: Is a directory");
  EXPECT_TRUE(loaded.error().read_failed);
  EXPECT_TRUE(loaded.error().set_aside_path.empty());
  EXPECT_EQ(Files(), std::vector<std::string>{"state.json"});
  EXPECT_TRUE(fs::is_directory(path_));
}

// Makes every read of the state module fail with `err` while it lives.
class FailingReads {
 public:
  explicit FailingReads(int err) {
    error_ = err;
    previous_ = SetFileReaderForTesting([](const std::string&) -> std::expected<std::string, int> {
      return std::unexpected(error_);
    });
  }
  ~FailingReads() { SetFileReaderForTesting(previous_); }

 private:
  static inline int error_ = 0;
  FileReader previous_ = nullptr;
};

TEST_F(StateFileTest, ReadErrorsLeaveTheFileInPlace) {
  const std::string content = "{\"version\": 1, \"policy\": {}}";
  Write(content);
  for (const int err : {EIO, EMFILE, EACCES, ENOMEM}) {
    SCOPED_TRACE(err);
    FailingReads fault(err);
    auto loaded = Load(path_, kT0);
    ASSERT_FALSE(loaded.has_value());
    EXPECT_EQ(loaded.error().message, path_ + ": cannot read: " + std::strerror(err));
    EXPECT_TRUE(loaded.error().read_failed);
    EXPECT_TRUE(loaded.error().set_aside_path.empty());
    EXPECT_EQ(Files(), std::vector<std::string>{"state.json"}) << "nothing set aside";
    EXPECT_EQ(Read(path_), content);
  }
  auto loaded = Load(path_, kT0);
  ASSERT_TRUE(loaded.has_value()) << "read again once the fault is gone";
  EXPECT_EQ(*loaded, (nlohmann::json{{"policy", nlohmann::json::object()}}));
}

TEST_F(StateFileTest, CheckUsableReadsTheWholeFile) {
  Write("{\"version\": 1}");
  FailingReads fault(EIO);
  auto usable = CheckUsable(path_);
  ASSERT_FALSE(usable.has_value());
  EXPECT_EQ(usable.error(), "cannot read " + path_ + ": Input/output error");
  EXPECT_EQ(Files(), std::vector<std::string>{"state.json"});
}

// Whoever may write the state directory must not make a save (the operator command line runs
// as root) write, truncate or chown another file through a symlink named state.json.tmp.
TEST_F(StateFileTest, SaveAndCheckNeverWriteThroughASymlinkedTempFile) {
  const std::string victim = (dir_ / "victim").string();
  std::ofstream(victim) << "precious";
  fs::create_symlink(victim, path_ + ".tmp");
  ASSERT_TRUE(CheckUsable(path_).has_value());
  EXPECT_EQ(Read(victim), "precious");
  fs::create_symlink(victim, path_ + ".tmp");
  ASSERT_TRUE(Save(path_, {{"n", 1}}, kT0).has_value());
  EXPECT_EQ(Read(victim), "precious");
  EXPECT_FALSE(fs::is_symlink(path_)) << "the link was not renamed into place";
  EXPECT_EQ((*Load(path_, kT0))["n"], 1);
  EXPECT_EQ(Files(), (std::vector<std::string>{"state.json", "victim"}));
}

// A state path that is a symlink is refused: not read, not written, not set aside.
TEST_F(StateFileTest, ASymlinkedStatePathIsRefused) {
  const std::string real = (dir_ / "real.json").string();
  std::ofstream(real) << "{\"version\": 1, \"n\": 1}";
  fs::create_symlink(real, path_);
  auto loaded = Load(path_, kT0);
  ASSERT_FALSE(loaded.has_value());
  EXPECT_EQ(loaded.error().message, path_ + ": cannot read: it is a symbolic link (not followed)");
  EXPECT_TRUE(loaded.error().read_failed);
  auto usable = CheckUsable(path_);
  ASSERT_FALSE(usable.has_value());
  EXPECT_EQ(usable.error(), "cannot read " + path_ + ": it is a symbolic link (not followed)");
  auto saved = Save(path_, {{"n", 2}}, kT0);
  ASSERT_FALSE(saved.has_value());
  EXPECT_EQ(saved.error(), "cannot write " + path_ + ": it is a symbolic link (not followed)");
  EXPECT_TRUE(fs::is_symlink(path_));
  EXPECT_EQ(Read(real), "{\"version\": 1, \"n\": 1}");
  EXPECT_EQ(Files(), (std::vector<std::string>{"real.json", "state.json"}));
}

TEST_F(StateFileTest, CheckUsableLeavesNothingBehindAndTheFileAsItWas) {
  ASSERT_TRUE(CheckUsable(path_).has_value());
  EXPECT_TRUE(Files().empty()) << "no state file is made by the check";
  Write("{\"version\": 1, \"n\": 1}");
  ASSERT_TRUE(CheckUsable(path_).has_value());
  EXPECT_EQ(Files(), std::vector<std::string>{"state.json"});
  EXPECT_EQ(Read(path_), "{\"version\": 1, \"n\": 1}");
}

TEST_F(StateFileTest, CheckUsableNamesWhatCannotBeWritten) {
  auto missing = CheckUsable((dir_ / "nope" / "state.json").string());
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error(), "cannot write " + (dir_ / "nope" / "state.json.tmp").string() +
                                 ": No such file or directory");
  fs::create_directories(path_ + ".tmp");  // fails for root too
  auto blocked = CheckUsable(path_);
  ASSERT_FALSE(blocked.has_value());
  EXPECT_EQ(blocked.error(), "cannot write " + path_ + ".tmp: Is a directory");
}

TEST_F(StateFileTest, CheckUsableRefusesAFileItCannotReadRatherThanLoseIt) {
  if (::geteuid() == 0) GTEST_SKIP() << "root reads anything (startup_errors_test runs as nobody)";
  Write("{\"version\": 1}");
  fs::permissions(path_, fs::perms::none);
  auto usable = CheckUsable(path_);
  ASSERT_FALSE(usable.has_value());
  EXPECT_EQ(usable.error(), "cannot read " + path_ + ": Permission denied");
}

// The policy service's "audit" section makes the file some hundred KiB: as large a file
// round-trips, sections this module does not know pass through untouched, and the start-time
// check passes and leaves it as it was.
TEST_F(StateFileTest, ALargeFileWithSectionsOfSeveralOwnersRoundTrips) {
  nlohmann::json entries = nlohmann::json::array();
  for (int i = 0; i < 1000; ++i) {
    entries.push_back(
        {{"time", "2023-11-14T22:13:20Z"}, {"n", i}, {"text", std::string(200, 'x')}});
  }
  const nlohmann::json sections = {{"policy", {{"cooldowns", nlohmann::json::array()}}},
                                   {"audit", {{"entries", entries}}},
                                   {"from_a_later_version", {{"k", "v"}}}};
  ASSERT_TRUE(Save(path_, sections, kT0).has_value());
  const std::string written = Read(path_);
  EXPECT_GT(written.size(), 200'000u);
  ASSERT_TRUE(CheckUsable(path_).has_value());
  EXPECT_EQ(Files(), std::vector<std::string>{"state.json"});
  EXPECT_EQ(Read(path_), written);
  auto loaded = Load(path_, kT0);
  ASSERT_TRUE(loaded.has_value()) << loaded.error().message;
  EXPECT_EQ(*loaded, sections);
}

TEST_F(StateFileTest, NonObjectSectionsAreRefused) {
  auto saved = Save(path_, nlohmann::json::array(), kT0);
  ASSERT_FALSE(saved.has_value());
  EXPECT_FALSE(fs::exists(path_));
}

}  // namespace
}  // namespace hdm::state

#include "state/state_lock.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "state/state_file.h"

namespace hdm::state {
namespace {

namespace fs = std::filesystem;

class StateLockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("hdm-state-lock-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = (dir_ / "state.json").string();
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
  std::string path_;
};

// A lock file that is a symlink is refused, dangling (open with O_CREAT would create its target)
// or not.
TEST_F(StateLockTest, ASymlinkedLockFileIsRefused) {
  const fs::path target = dir_ / "elsewhere";
  fs::create_symlink(target, path_ + ".lock");
  auto dangling = StateLock::Acquire(path_, std::chrono::milliseconds(0));
  ASSERT_FALSE(dangling.has_value());
  EXPECT_EQ(dangling.error(),
            "cannot open " + path_ + ".lock: it is a symbolic link (not followed)");
  EXPECT_FALSE(fs::exists(target)) << "nothing created through the link";
  fs::create_directories(dir_ / "d");
  fs::remove(path_ + ".lock");
  fs::create_symlink(dir_ / "d" / "existing", path_ + ".lock");
  { std::ofstream(dir_ / "d" / "existing") << "x"; }
  EXPECT_FALSE(StateLock::Acquire(path_, std::chrono::milliseconds(0)).has_value());
}

TEST_F(StateLockTest, ASecondHolderWaitsAndTimesOutWhileTheFirstHoldsIt) {
  auto first = StateLock::Acquire(path_, std::chrono::milliseconds(0));
  ASSERT_TRUE(first.has_value()) << first.error();
  EXPECT_TRUE(fs::exists(path_ + ".lock"));
  // flock locks belong to open file descriptions: a second open in this process conflicts too.
  auto second = StateLock::Acquire(path_, std::chrono::milliseconds(20));
  ASSERT_FALSE(second.has_value());
  EXPECT_NE(second.error().find("held by another process"), std::string::npos) << second.error();
  { StateLock moved = std::move(*first); }  // released when the moved-to lock goes
  EXPECT_TRUE(StateLock::Acquire(path_, std::chrono::milliseconds(0)).has_value());
}

TEST_F(StateLockTest, AChildProcessHoldingTheLockBlocksUntilItExits) {
  int ready[2];
  int release[2];
  ASSERT_EQ(::pipe(ready), 0);
  ASSERT_EQ(::pipe(release), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto lock = StateLock::Acquire(path_, std::chrono::milliseconds(0));
    char c = lock ? 'y' : 'n';
    (void)!::write(ready[1], &c, 1);
    (void)!::read(release[0], &c, 1);
    ::_exit(0);
  }
  char c = 0;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  ASSERT_EQ(c, 'y');
  EXPECT_FALSE(StateLock::Acquire(path_, std::chrono::milliseconds(10)).has_value());
  ASSERT_EQ(::write(release[1], "x", 1), 1);
  EXPECT_TRUE(StateLock::Acquire(path_, std::chrono::seconds(10)).has_value());
  int status = 0;
  ::waitpid(child, &status, 0);
  for (int fd : {ready[0], ready[1], release[0], release[1]}) ::close(fd);
}

TEST_F(StateLockTest, StampChangesWithEverySave) {
  EXPECT_FALSE(Stamp(path_).has_value());
  const SysTime now = SysTime(std::chrono::seconds(1'700'000'000));
  ASSERT_TRUE(Save(path_, nlohmann::json::object(), now).has_value());
  const auto first = Stamp(path_);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(Stamp(path_), first);
  ASSERT_TRUE(Save(path_, nlohmann::json::object(), now).has_value());
  EXPECT_NE(Stamp(path_), first) << "a save replaces the inode";
}

}  // namespace
}  // namespace hdm::state

#include "native_host/frames.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>

namespace confab::native_host {
namespace {

// A pipe holding `bytes`, its write end closed: what a browser that wrote them and went away leaves.
struct Input {
  int fds[2];
  explicit Input(const std::string& bytes) {
    EXPECT_EQ(::pipe(fds), 0);
    EXPECT_EQ(::write(fds[1], bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
    ::close(fds[1]);
  }
  ~Input() { ::close(fds[0]); }
  int fd() const { return fds[0]; }
};

std::string framed(const std::string& body) {
  auto n = static_cast<uint32_t>(body.size());
  std::string out(4, '\0');
  std::memcpy(out.data(), &n, 4);
  return out + body;
}

TEST(Frames, ReadsFramesInOrderThenTheEnd) {
  Input in(framed(R"({"type":"Calls"})") + framed("{}"));
  auto a = read_frame(in.fd());
  EXPECT_EQ(a.status, Frame::Status::ok);
  EXPECT_EQ(a.body, R"({"type":"Calls"})");
  auto b = read_frame(in.fd());
  EXPECT_EQ(b.status, Frame::Status::ok);
  EXPECT_EQ(b.body, "{}");
  EXPECT_EQ(read_frame(in.fd()).status, Frame::Status::end);
}

TEST(Frames, AnEndInsideAFrameIsTruncated) {
  Input body(framed("{\"type\":\"Calls\"}").substr(0, 10));
  auto f = read_frame(body.fd());
  EXPECT_EQ(f.status, Frame::Status::truncated);
  EXPECT_EQ(f.length, 16u);
  EXPECT_EQ(f.got, 6u);
  Input prefix(std::string("\x05\x00", 2));
  EXPECT_EQ(read_frame(prefix.fd()).status, Frame::Status::truncated);
}

TEST(Frames, ALengthOverTheLimitIsRefusedUnread) {
  Input in(framed(std::string(100, 'x')));
  auto f = read_frame(in.fd(), 99);
  EXPECT_EQ(f.status, Frame::Status::too_large);
  EXPECT_EQ(f.length, 100u);
  std::string huge(4, '\xff');  // 4 GiB - 1 announced, nothing follows
  Input in2(huge);
  EXPECT_EQ(read_frame(in2.fd()).status, Frame::Status::too_large);
}

TEST(Frames, WritesTheNativeLengthPrefixAndRefusesOverOneMegabyte) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  EXPECT_TRUE(write_frame(fds[1], R"({"a":"b"})"));
  EXPECT_FALSE(write_frame(fds[1], std::string(kMaxToBrowser + 1, 'x')));  // nothing written
  ::close(fds[1]);
  auto f = read_frame(fds[0]);
  EXPECT_EQ(f.status, Frame::Status::ok);
  EXPECT_EQ(f.body, R"({"a":"b"})");
  EXPECT_EQ(read_frame(fds[0]).status, Frame::Status::end);
  ::close(fds[0]);
}

TEST(Frames, WritingToAClosedOutputFails) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  ::close(fds[0]);
  auto old = ::signal(SIGPIPE, SIG_IGN);
  EXPECT_FALSE(write_frame(fds[1], "{}"));
  ::signal(SIGPIPE, old);
  ::close(fds[1]);
}

}  // namespace
}  // namespace confab::native_host

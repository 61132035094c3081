#include "sip/sip_trace.h"

#include <dirent.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <cerrno>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <stdexcept>

#include "sip/tport_dump.h"

namespace confab::sip {
namespace {

std::mutex active_mutex;
std::shared_ptr<PcapWriter> active_writer;  // the trace on, if any
std::vector<SipTraceTap*> taps;             // every tap (under active_mutex), for the message log
std::atomic<int> tap_count{0};
thread_local TportLogAssembler message_log;  // Sofia logs a message piece by piece on its SIP thread

// A stack's dump that stops for this long has written its last record whole.
constexpr int kQuietMs = 150;
// How long a record the dump cut short waits for the message log that completes it
// (written right after the dump, on the SIP thread).
constexpr auto kLogWait = std::chrono::milliseconds(200);
constexpr size_t kMostLogged = 1024;
constexpr int64_t kDayUs = 86400LL * 1000000;

// The listen host as an address: numeric as given, else resolved once.
PacketEndpoint local_endpoint(const ListenSpec& spec) {
  PacketEndpoint e;
  if (PacketEndpoint::parse(spec.host, spec.port, e)) return e;
  addrinfo hints{}, *found = nullptr;
  hints.ai_socktype = SOCK_DGRAM;
  if (::getaddrinfo(spec.host.c_str(), nullptr, &hints, &found) == 0 && found) {
    char text[NI_MAXHOST] = "";
    ::getnameinfo(found->ai_addr, found->ai_addrlen, text, sizeof text, nullptr, 0, NI_NUMERICHOST);
    ::freeaddrinfo(found);
    if (PacketEndpoint::parse(text, spec.port, e)) return e;
  }
  PacketEndpoint::parse("0.0.0.0", spec.port, e);
  return e;
}

// The stamp's UTC time of day on the day nearest now (records are read as they are written).
timeval absolute_time(int64_t time_of_day_us) {
  int64_t now = std::chrono::duration_cast<std::chrono::microseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  int64_t t = now - now % kDayUs + time_of_day_us;
  if (t - now > kDayUs / 2) t -= kDayUs;
  if (now - t > kDayUs / 2) t += kDayUs;
  return timeval{static_cast<time_t>(t / 1000000), static_cast<suseconds_t>(t % 1000000)};
}

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

}  // namespace

SipTrace::SipTrace(const std::string& path) {
  std::lock_guard lock(active_mutex);
  if (active_writer) throw std::runtime_error("a SIP trace is already on (" + active_writer->path() + ")");
  writer_ = std::make_shared<PcapWriter>(path);
  active_writer = writer_;
  spdlog::info("SIP trace: every SIP message goes to {} (pcap; it holds credentials: mode 0600)", path);
}

SipTrace::~SipTrace() {
  {
    std::lock_guard lock(active_mutex);
    active_writer.reset();
  }
  spdlog::info("SIP trace: {} packets written to {}", writer_->packets(), writer_->path());
}

std::unique_ptr<SipTraceTap> SipTrace::tap(const std::vector<ListenSpec>& listen) {
  std::shared_ptr<PcapWriter> writer;
  {
    std::lock_guard lock(active_mutex);
    writer = active_writer;
  }
  if (!writer) return nullptr;
  return std::make_unique<SipTraceTap>(std::move(writer), listen);
}

SipTraceTap::SipTraceTap(std::shared_ptr<PcapWriter> writer, const std::vector<ListenSpec>& listen)
    : writer_(std::move(writer)) {
  for (auto& spec : listen) locals_.push_back({spec.transport == "udp", local_endpoint(spec)});
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error(std::string("SIP trace: pipe: ") + std::strerror(errno));
  read_fd_ = fds[0];
  write_fd_ = fds[1];
  ::fcntl(read_fd_, F_SETPIPE_SZ, 1 << 20);  // room for bursts while the disk is slow; best effort
  stop_fd_ = ::eventfd(0, EFD_CLOEXEC);
  if (stop_fd_ < 0) {
    close_fd(read_fd_);
    close_fd(write_fd_);
    throw std::runtime_error(std::string("SIP trace: eventfd: ") + std::strerror(errno));
  }
  dump_path_ = "/proc/self/fd/" + std::to_string(write_fd_);
  sip_thread_ = std::this_thread::get_id();
  {
    std::lock_guard lock(active_mutex);
    taps.push_back(this);
    ++tap_count;
  }
  reader_ = std::thread([this] { run(); });
}

SipTraceTap::~SipTraceTap() {
  {
    std::lock_guard lock(active_mutex);
    taps.erase(std::remove(taps.begin(), taps.end(), this), taps.end());
    --tap_count;
  }
  close_fd(write_fd_);
  uint64_t one = 1;
  if (::write(stop_fd_, &one, sizeof one) < 0) spdlog::warn("SIP trace: cannot stop its reader: {}", std::strerror(errno));
  reader_.join();
  close_fd(read_fd_);
  close_fd(stop_fd_);
}

void SipTraceTap::started() {
  close_fd(write_fd_);
  // Sofia opened the pipe without O_CLOEXEC: keep it from programs the part starts.
  struct stat pipe_stat{};
  if (::fstat(read_fd_, &pipe_stat) != 0) return;
  DIR* dir = ::opendir("/proc/self/fd");
  if (!dir) return;
  int writers = 0;
  while (dirent* entry = ::readdir(dir)) {
    int fd = std::atoi(entry->d_name);
    struct stat st{};
    if (fd > 2 && fd != read_fd_ && fd != ::dirfd(dir) && ::fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode) &&
        st.st_ino == pipe_stat.st_ino && st.st_dev == pipe_stat.st_dev) {
      ::fcntl(fd, F_SETFD, ::fcntl(fd, F_GETFD) | FD_CLOEXEC);
      ++writers;
    }
  }
  ::closedir(dir);
  if (writers == 0)
    spdlog::warn("SIP trace: the SIP stack on {} did not open its dump (TPORT_DUMP set in the environment?): its "
                 "messages are not in {}", locals_.empty() ? std::string("?") : locals_.front().endpoint.host(),
                 writer_->path());
}

void SipTraceTap::run() {
  TportDumpParser parser;
  struct Pending {
    TportDumpRecord record;
    std::chrono::steady_clock::time_point deadline;
  };
  std::deque<Pending> pending;  // in the dump's order; a cut one waits for its log
  size_t completed = 0, left_cut = 0;
  char buffer[65536];
  bool stopping = false, ended = false;
  while (!ended || !pending.empty()) {
    if (!ended) {
      pollfd fds[2] = {{read_fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
      // Once stopping, only what is already in the pipe is read.
      int timeout = stopping ? 0 : pending.empty() ? (parser.buffered() ? kQuietMs : -1) : 20;
      int ready = ::poll(fds, stopping ? 1 : 2, timeout);
      if (ready < 0 && errno == EINTR) continue;
      if (fds[1].revents & POLLIN) stopping = true;
      bool quiet = ready == 0;
      if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
        ssize_t n = ::read(read_fd_, buffer, sizeof buffer);
        if (n > 0) parser.feed(std::string_view(buffer, static_cast<size_t>(n)));
        if (n <= 0) ended = quiet = true;  // every writer closed: the stack is gone
      } else if (stopping && ready == 0) {
        ended = true;
      }
      auto now = std::chrono::steady_clock::now();
      while (auto record = parser.next(quiet || ended)) pending.push_back({std::move(*record), now + kLogWait});
    }
    auto now = std::chrono::steady_clock::now();
    while (!pending.empty()) {
      TportDumpRecord& r = pending.front().record;
      if (r.bytes.size() < r.wire_size) {
        if (complete_from_log(r)) {
          ++completed;
        } else if (ended || now >= pending.front().deadline) {
          complete_cut_record(r);
          if (r.bytes.size() < r.wire_size) ++left_cut;
        } else {
          break;
        }
      }
      write(std::move(r));
      pending.pop_front();
    }
  }
  if (parser.skipped_bytes() || parser.buffered())
    spdlog::warn("SIP trace: {} bytes of Sofia-SIP's dump were not in its format and are left out of {}",
                 parser.skipped_bytes() + parser.buffered(), writer_->path());
  if (left_cut)
    spdlog::warn("SIP trace: {} messages sent are in {} without their body (Sofia-SIP dumped only their headers)",
                 left_cut, writer_->path());
  spdlog::debug("SIP trace: {} messages cut short by Sofia-SIP's dump completed from its message log", completed);
}

void SipTraceTap::offer_logged(const TportLoggedMessage& message) {
  std::lock_guard lock(logged_mutex_);
  logged_.push_back(message);
  if (logged_.size() > kMostLogged) logged_.pop_front();
}

bool SipTraceTap::complete_from_log(TportDumpRecord& record) {
  std::lock_guard lock(logged_mutex_);
  for (auto it = logged_.begin(); it != logged_.end(); ++it) {
    const TportDumpRecord& s = it->stamp;
    if (s.transport != record.transport || s.remote_host != record.remote_host || s.remote_port != record.remote_port ||
        s.wire_size != record.wire_size)
      continue;
    auto whole = it->rebuild(record.bytes);
    if (!whole) continue;
    record.bytes = std::move(*whole);
    // The log comes in the dump's order: older entries are done; this one stays for a
    // retransmission of the same message, which Sofia does not log again.
    logged_.erase(logged_.begin(), it);
    return true;
  }
  return false;
}

bool take_sofia_message_log(std::string_view piece) {
  if (tap_count.load(std::memory_order_relaxed) == 0) return false;
  if (!message_log.feed(piece)) return false;
  if (auto message = message_log.done(); message && message->stamp.sent) {
    std::lock_guard lock(active_mutex);
    for (auto* tap : taps)
      if (tap->sip_thread_ == std::this_thread::get_id()) tap->offer_logged(*message);
  }
  return true;
}

void SipTraceTap::write(TportDumpRecord whole) {
  PacketEndpoint remote;
  if (!PacketEndpoint::parse(whole.remote_host, whole.remote_port, remote)) return;
  bool udp = whole.transport == "udp";
  const Local* local = nullptr;
  for (auto& l : locals_)
    if (l.endpoint.family == remote.family && (!local || (l.udp == udp && local->udp != udp))) local = &l;
  PacketEndpoint here;
  if (local) {
    here = local->endpoint;
  } else {
    PacketEndpoint::parse(remote.family == AF_INET ? "0.0.0.0" : "::", 0, here);
  }
  SipPacket packet;
  packet.transport = udp ? SipPacket::Transport::udp : SipPacket::Transport::tcp;
  packet.source = whole.sent ? here : remote;
  packet.destination = whole.sent ? remote : here;
  packet.time = absolute_time(whole.time_of_day_us);
  packet.payload = whole.bytes;
  packet.wire_size = whole.wire_size;
  writer_->write(packet);
}

}  // namespace confab::sip

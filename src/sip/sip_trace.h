// `--sip-trace FILE`: every SIP message a part sends and receives, written to a
// pcap file (sip::PcapWriter) that Wireshark, tshark and sngrep read, also while
// it grows.
//
// While a SipTrace exists, every Sofia-SIP stack the process creates
// (sip::UserAgent, sip::TransactionLayer) is traced into it: each stack gets a
// SipTraceTap, whose pipe receives Sofia's transport dump (TPTAG_DUMP, the one
// place Sofia-SIP shows each message with its transport, peer address and time;
// read by sip::TportDumpParser) and whose thread writes each message as a packet
// between the peer and the stack's listen address of that transport and family.
// Sofia-SIP 1.12.11 dumps only the first piece of a message it sends in several
// (see tport_dump.h): the tap completes it from Sofia's message log of the same
// stack (TPTAG_LOG, tport_log.h), taken from Sofia's default log on the SIP
// thread, when that rebuilds the dumped bytes and the size on the wire exactly;
// otherwise the packet keeps the size on the wire and lacks the rest.
#pragma once

#include <cstdint>
#include <deque>
#include <mutex>
#include <string_view>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "sip/pcap_writer.h"
#include "sip/tport_log.h"
#include "sip/transaction_layer.h"

namespace confab::sip {

class SipTraceTap;

class SipTrace {
 public:
  // Creates FILE (mode 0600: it holds digest credentials) and traces every SIP
  // stack created from now on. Throws std::runtime_error naming FILE and the
  // reason when it cannot be written, or when a trace is already on.
  explicit SipTrace(const std::string& path);
  ~SipTrace();
  SipTrace(const SipTrace&) = delete;
  SipTrace& operator=(const SipTrace&) = delete;

  const std::string& path() const { return writer_->path(); }
  uint64_t packets() const { return writer_->packets(); }

  // For src/sip: a tap for a new stack listening on `listen`; nullptr when no trace is on.
  static std::unique_ptr<SipTraceTap> tap(const std::vector<ListenSpec>& listen);

 private:
  std::shared_ptr<PcapWriter> writer_;
};

// One stack's dump, read on a thread of its own (so a slow disk never blocks
// the SIP thread beyond the pipe's buffer) and written to the trace.
class SipTraceTap {
 public:
  SipTraceTap(std::shared_ptr<PcapWriter> writer, const std::vector<ListenSpec>& listen);
  // Writes what the stack dumped up to now, then stops.
  ~SipTraceTap();
  SipTraceTap(const SipTraceTap&) = delete;
  SipTraceTap& operator=(const SipTraceTap&) = delete;

  // The name to give the stack as TPTAG_DUMP ("/proc/self/fd/N", the pipe).
  const char* dump_path() const { return dump_path_.c_str(); }
  // Once the stack has opened the dump: closes our end of the pipe (the stack's
  // own is kept from child processes).
  void started();

 private:
  friend bool take_sofia_message_log(std::string_view piece);
  void run();
  void write(TportDumpRecord record);
  // The message log of what this stack sent, kept until the dump's record of it is read.
  void offer_logged(const TportLoggedMessage& message);
  // Completes a record the dump cut short from the log; false if its log has not come (yet).
  bool complete_from_log(TportDumpRecord& record);

  std::shared_ptr<PcapWriter> writer_;
  struct Local {
    bool udp;
    PacketEndpoint endpoint;
  };
  std::vector<Local> locals_;
  std::thread::id sip_thread_;
  std::mutex logged_mutex_;
  std::deque<TportLoggedMessage> logged_;
  int read_fd_ = -1, write_fd_ = -1, stop_fd_ = -1;
  std::string dump_path_;
  std::thread reader_;
};

// For sip/sofia_runtime.cpp: a piece of Sofia's default log. True when it is part
// of a traced stack's message log (TPTAG_LOG), which completes the messages Sofia's
// dump cut short; such pieces are not logged.
bool take_sofia_message_log(std::string_view piece);

}  // namespace confab::sip

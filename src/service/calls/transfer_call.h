// A transfer-mode call: the service calls the device (offerless INVITE,
// answered with an inactive stream: no media reaches the service), REFERs it
// to the target (RFC 3515) and leaves once the device reports, by the REFER's
// NOTIFYs, that the target answered. Afterwards the service holds no dialog.
#pragma once

#include <memory>
#include <string>

#include "service/calls/service_call.h"
#include "sip/event_loop.h"
#include "sip/user_agent.h"

namespace confab::service {

class TransferCall final : public ServiceCall, public sip::CallHandler {
 public:
  TransferCall(sip::EventLoop& loop, sip::UserAgent& ua, CallObserver& observer, std::string id,
               std::string device_id, std::string device_uri, std::string target_uri, sip::CallOptions options);
  ~TransferCall() override;

  // `done`: 200 once the device is connected to the target, else why not.
  void start(Completion done) override;
  void hangup() override;
  CallMode mode() const override { return CallMode::Transfer; }
  bool active() const override { return false; }  // never a call the service keeps
  bool ended() const override { return ended_; }

 protected:
  void add_call_ids(base::CallLog& log) const override;  // the device's dialog

 public:

  void on_invite_response(sip::Call& call, int status, const sip::Message& response) override;
  void on_notify(sip::Call& call, const sip::Message& notify) override;
  void on_request_response(sip::Call& call, sip::Method method, int status, const sip::Message& response) override;
  void on_terminated(sip::Call& call, int status, std::string_view reason) override;

  static constexpr unsigned kTransferTimeoutMs = 64000;  // the device's INVITE to the target, ringing included

 private:
  void finish(int status, const std::string& reason);

  sip::UserAgent& ua_;
  sip::CallOptions options_;
  sip::Timer timeout_;
  std::shared_ptr<sip::Call> device_;
  Completion done_;
  bool referred_ = false, ended_ = false, gone_ = false;
};

}  // namespace confab::service

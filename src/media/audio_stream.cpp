#include "media/audio_stream.h"

#include <sys/socket.h>

#include <algorithm>
#include <random>

namespace confab::media {

namespace {

uint32_t random32() {
  static thread_local std::mt19937 rng{std::random_device{}()};
  return rng();
}

// recvmmsg's buffers and headers, shared by a thread's streams. Set up once:
// the kernel only writes lengths and flags back, and filling in 16 headers on
// every call cost more than the rest of receiving a packet.
struct ReceiveBatch {
  static constexpr int kSize = 16;
  uint8_t bufs[kSize][kMaxRtpPacket];
  iovec iov[kSize];
  Endpoint from[kSize];
  mmsghdr msgs[kSize];
  ReceiveBatch() {
    for (int i = 0; i < kSize; ++i) {
      iov[i] = {bufs[i], kMaxRtpPacket};
      msgs[i] = {};
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
      msgs[i].msg_hdr.msg_name = &from[i].addr;
    }
  }
  // The kernel shortens msg_namelen to each sender's address: give the room back.
  void reset_names(int n) {
    for (int i = 0; i < n; ++i) msgs[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
  }
};

}  // namespace

AudioStream::AudioStream(UdpSocket rtp, UdpSocket rtcp)
    : rtp_(std::move(rtp)), rtcp_(std::move(rtcp)), ssrc_(random32()), seq_(static_cast<uint16_t>(random32())),
      ts_(random32()) {
  payload_.reserve(kMaxRtpPacket);
}

void AudioStream::set_terms(const StreamTerms& terms) {
  bool codec_changed = !configured_ || terms.codec != terms_.codec;
  if (!configured_ || !(terms.remote == terms_.remote) || terms.latch != terms_.latch) {
    target_ = terms.remote;
    stats_.latched = false;
    bool private_sdp = terms.remote.is_private();
    latch_pending_ = terms.latch == Latch::Always || (terms.latch == Latch::Private && private_sdp);
    latch_candidate_ = Endpoint{};
    source_locked_ = false;
    hold_frames_ = latch_pending_ && private_sdp ? 50 : 0;  // 1 s
  }
  terms_ = terms;
  configured_ = true;
  if (codec_changed) {
    encoder_ = make_encoder(terms.codec);
    decoder_ = make_decoder(terms.codec);
    jitter_ = std::make_unique<JitterBuffer>(describe(terms.codec).rtp_clock);
    in_resampler_.reset();
    out_resampler_.reset();
    decoded_.clear();
    marker_next_ = true;
  }
}

size_t AudioStream::receive(uint64_t now_ms) {
  static thread_local ReceiveBatch batch;
  size_t taken = 0;
  int used = ReceiveBatch::kSize;
  for (int round = 0; round < 4; ++round) {  // bounded: a flood cannot starve the other streams
    batch.reset_names(used);
    int n = recvmmsg(rtp_.fd(), batch.msgs, ReceiveBatch::kSize, MSG_DONTWAIT, nullptr);
    used = std::max(n, 0);
    for (int i = 0; i < n; ++i) {
      size_t size = batch.msgs[i].msg_len;
      if (is_rtcp(batch.bufs[i], size)) continue;  // rtcp-mux: not audio
      batch.from[i].len = batch.msgs[i].msg_hdr.msg_namelen;
      handle_rtp(batch.bufs[i], size, batch.from[i], now_ms);
      ++taken;
    }
    if (n < ReceiveBatch::kSize) break;
  }
  return taken;
}

void AudioStream::drain_rtcp() {
  uint8_t buf[kMaxRtpPacket];
  Endpoint from;
  for (int i = 0; i < 8; ++i)
    if (rtcp_.receive(buf, sizeof buf, &from) <= 0) break;
}

void AudioStream::handle_rtp(const uint8_t* data, size_t size, const Endpoint& from, uint64_t now_ms) {
  auto packet = parse_rtp(data, size);
  if (!packet || !configured_ || !terms_.receive) {
    ++stats_.bad_packets;
    return;
  }
  const RtpHeader& h = packet->header;
  if (source_locked_ && !(from == target_)) {
    ++stats_.stray_packets;
    return;
  }
  bool ours = h.payload_type == terms_.payload_type ||
              (terms_.telephone_event_pt && h.payload_type == *terms_.telephone_event_pt);
  // Probation: two packets in sequence from one source, so a single stray or
  // forged datagram cannot divert the stream (the "RTP bleed" attack).
  if (latch_pending_ && ours) {
    if (from == latch_candidate_ && h.sequence == static_cast<uint16_t>(latch_sequence_ + 1)) {
      latch_pending_ = false;
      source_locked_ = true;
      hold_frames_ = 0;
      if (!(from == target_)) {
        target_ = from;
        stats_.latched = true;
      }
    } else {
      latch_candidate_ = from;
      latch_sequence_ = h.sequence;
    }
  }
  if (terms_.telephone_event_pt && h.payload_type == *terms_.telephone_event_pt) {
    auto ev = parse_telephone_event(packet->payload, packet->payload_size);
    if (!ev) {
      ++stats_.bad_packets;
      return;
    }
    if (h.timestamp != last_event_ts_) event_reported_ = false, last_event_ts_ = h.timestamp;
    if (ev->end && !event_reported_) {
      event_reported_ = true;
      if (on_digit) on_digit(ev->digit());
    }
    return;  // telephone-events are signalling, never mixed as audio
  }
  if (h.payload_type != terms_.payload_type) {
    ++stats_.bad_packets;
    return;
  }
  if (stats_.packets_received > 0 && h.ssrc != rx_stats_.ssrc()) {
    ++stats_.ssrc_changes;
    rx_stats_ = RtpReceiveStats{};
    jitter_->reset();
    decoded_.clear();
  }
  int clock = describe(terms_.codec).rtp_clock;
  rx_stats_.update(h, static_cast<uint32_t>(now_ms * static_cast<uint64_t>(clock) / 1000));
  ++stats_.packets_received;
  stats_.lost = rx_stats_.lost();
  stats_.jitter_ms = rx_stats_.jitter() * 1000 / static_cast<uint32_t>(clock);
  last_packet_ms_ = now_ms;
  jitter_->put(h.timestamp, rtp_duration(terms_.codec, packet->payload, packet->payload_size), packet->payload,
               packet->payload_size);
}

const int16_t* AudioStream::to_rate(const int16_t* in, int in_rate, int out_rate, std::unique_ptr<Resampler>& r,
                                    int16_t* buf) {
  if (in_rate == out_rate) return in;
  if (!r || r->in_rate() != in_rate || r->out_rate() != out_rate) r = std::make_unique<Resampler>(in_rate, out_rate);
  size_t n = r->process(in, frame_samples(in_rate), buf, kMaxFrameSamples);
  // The resampler may hand out a sample more or less at the edges: pad or trim to a frame.
  for (size_t i = n; i < frame_samples(out_rate); ++i) buf[i] = i > 0 ? buf[i - 1] : 0;
  return buf;
}

AudioStream::Frame AudioStream::pull(int16_t* out, int rate, bool conceal) {
  size_t want = frame_samples(rate);
  if (!configured_ || !terms_.receive) {
    std::fill(out, out + want, 0);
    return Frame::Silence;
  }
  int codec_rate = decoder_->pcm_rate();
  size_t frame = frame_samples(codec_rate);
  Frame kind = Frame::Audio;
  int16_t pcm[kMaxFrameSamples];
  if (decoded_.size() < frame) {
    auto r = jitter_->pull(payload_);
    if (r == JitterBuffer::Result::Packet) {
      int16_t tmp[kMaxFrameSamples * 6];
      size_t n = decoder_->decode(payload_.data(), payload_.size(), tmp, std::size(tmp));
      if (n == 0) {
        ++stats_.bad_packets;
        r = JitterBuffer::Result::Lost;
      } else if (n == frame && decoded_.empty() && codec_rate == rate) {
        std::copy(tmp, tmp + n, out);  // the usual case: one frame at the wanted rate, no staging
        return Frame::Audio;
      } else {
        decoded_.insert(decoded_.end(), tmp, tmp + n);
      }
    }
    if (r == JitterBuffer::Result::Idle) {
      std::fill(out, out + want, 0);
      return Frame::Silence;
    }
    if (r == JitterBuffer::Result::Lost) {
      ++stats_.concealed_frames;
      if (!conceal) {
        std::fill(out, out + want, 0);
        return Frame::Silence;
      }
      decoder_->conceal(pcm, frame);
      decoded_.insert(decoded_.end(), pcm, pcm + frame);
      kind = Frame::Concealed;
    }
  }
  std::copy(decoded_.begin(), decoded_.begin() + static_cast<std::ptrdiff_t>(frame), pcm);
  decoded_.erase(decoded_.begin(), decoded_.begin() + static_cast<std::ptrdiff_t>(frame));
  int16_t buf[kMaxFrameSamples];
  const int16_t* res = to_rate(pcm, codec_rate, rate, in_resampler_, buf);
  std::copy(res, res + want, out);
  return kind;
}

size_t AudioStream::encode(const int16_t* pcm, int rate, uint8_t* out, size_t capacity) {
  if (!configured_) return 0;
  int16_t buf[kMaxFrameSamples];
  const int16_t* in = to_rate(pcm, rate, encoder_->pcm_rate(), out_resampler_, buf);
  return encoder_->encode(in, out, capacity);
}

void AudioStream::send_payload(const uint8_t* payload, size_t size) {
  if (!configured_ || !terms_.send || size == 0) return;
  if (hold_frames_ > 0) {  // a private SDP address: wait for the peer's RTP to show where it really is
    --hold_frames_;
    return;
  }
  RtpHeader h;
  h.marker = marker_next_;
  h.payload_type = static_cast<uint8_t>(terms_.payload_type);
  h.sequence = seq_++;
  h.timestamp = ts_;
  h.ssrc = ssrc_;
  ts_ += static_cast<uint32_t>(frame_samples(describe(terms_.codec).rtp_clock));
  marker_next_ = false;
  uint8_t packet[kMaxRtpPacket];
  size_t n = write_rtp(h, payload, size, packet, sizeof packet);
  if (n && rtp_.send_to(packet, n, target_)) ++stats_.packets_sent;
}

void AudioStream::push(const int16_t* pcm, int rate) {
  if (!configured_ || !terms_.send) return;
  uint8_t payload[kMaxRtpPacket];
  size_t n = encode(pcm, rate, payload, sizeof payload);
  send_payload(payload, n);
}

}  // namespace confab::media

#include "game/voice.h"

namespace confab::game {

VoiceFactory no_voice(std::string reason) {
  return [reason = std::move(reason)](sip::EventLoop&, const World&, const GameOptions&) {
    return std::make_unique<NoVoice>(reason);
  };
}

}  // namespace confab::game

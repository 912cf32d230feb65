// Fuzz target: arbitrary bytes through the HL7 v2 parser, the mapping to
// FHIR, the ACK builder and the MLLP decoder. Rejecting input (haip::Error,
// AR/AE results) is fine; crashes, sanitizer reports, hangs and exceptions
// of any other type are findings.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/error.h"
#include "lake/hl7v2/ack.h"
#include "lake/hl7v2/mapping.h"
#include "lake/hl7v2/message.h"
#include "lake/hl7v2/mllp.h"

using namespace haip::lake::hl7v2;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view raw(reinterpret_cast<const char*>(data), size);

  MappingResult result = MapRawToFhir(raw);
  for (const auto& resource : result.resources) {
    // Every resource must serialize (valid UTF-8) and carry its identity.
    std::string json = resource.dump();
    if (!resource.contains("id") || !resource.contains("resourceType")) __builtin_trap();
  }
  if (result.ack != AckCode::kAA && !result.resources.empty()) __builtin_trap();
  // The ACK must itself be a parseable message, whatever came in.
  Message ack = Message::Parse(AckFor(raw, result, {.control_id = "F", .timestamp = "20240101"}));
  if (ack.Get("MSA", 1) != AckCodeName(result.ack)) __builtin_trap();

  try {
    Message msg = Message::Parse(raw);
    for (const Segment& s : msg.segments()) {
      for (size_t f = 0; f <= s.FieldCount() && f < 8; ++f) {
        for (size_t r = 1; r <= s.RepetitionCount(f) && r < 4; ++r) {
          (void)s.Get(f, r, 2, 2);
          (void)s.GetRepetitionText(f, r);
        }
      }
    }
    (void)Escape(raw, msg.delimiters());
    if (Unescape(Escape(raw, msg.delimiters()), msg.delimiters()) != raw) __builtin_trap();
  } catch (const haip::Error&) {
  }
  (void)SplitMessages(raw);

  MllpDecoder decoder(4096);
  try {
    // Split the input in two reads to exercise reassembly.
    (void)decoder.Feed(raw.substr(0, size / 2));
    (void)decoder.Feed(raw.substr(size / 2));
  } catch (const haip::Error&) {
  }
  return 0;
}

// HL7 v2 acknowledgements (original mode): MSH + MSA (+ ERR when not AA).
#pragma once

#include <string>
#include <string_view>

#include "lake/hl7v2/message.h"

namespace haip::lake::hl7v2 {

enum class AckCode {
  kAA,  // accepted
  kAE,  // application error: understood, but cannot be processed as sent
  kAR,  // rejected: not a usable HL7 message
};

std::string_view AckCodeName(AckCode code);  // "AA", "AE", "AR"

struct AckOptions {
  // MSH-10 of the ACK; empty: a fresh random id.
  std::string control_id;
  // MSH-7 as an HL7 timestamp; empty: now (UTC, YYYYMMDDHHMMSS+0000).
  std::string timestamp;
  // ERR-3 (HL7 table 0357) code; 0: 101 "Required field missing" for AE,
  // 102 "Data type error" for AR.
  int error_code = 0;
};

// The ACK for a parsed message: MSH-3/4 and MSH-5/6 swapped, same version,
// processing id and delimiters, MSA-2 = the original MSH-10, ERR carrying
// text when code is not AA. Segments end with CR. Never throws for content.
std::string BuildAck(const Message& original, AckCode code, std::string_view text = {},
                     const AckOptions& options = {});

// The ACK for input that did not parse: standard delimiters, and MSH-10 and
// the addressing fields recovered from the raw text where they can be found.
std::string BuildAckForRaw(std::string_view raw, AckCode code, std::string_view text,
                           const AckOptions& options = {});

}  // namespace haip::lake::hl7v2

// Structural validation of FHIR R4 resources: required elements and
// cardinality for the supported types, datatypes of the elements HAIP relies
// on (dates, codes, codings, references, quantities, ids), and value sets of
// status codes. Unknown elements are kept, not rejected.
#pragma once

#include <string>
#include <vector>

#include "core/json.h"

namespace haip::lake {

struct ValidationIssue {
  std::string severity = "error";  // OperationOutcome.issue.severity
  std::string code;                // issue type: required, value, structure, invalid, not-found
  std::string expression;          // FHIRPath-like location: "Observation.code.coding[0].system"
  std::string diagnostics;
};

// Issues found in one resource; empty when valid. `path_prefix` names where
// the resource sits ("Bundle.entry[3].resource"), for errors inside bundles.
std::vector<ValidationIssue> ValidateResource(const Json& resource, const std::string& path_prefix = "");

// An OperationOutcome resource holding the issues.
Json MakeOperationOutcome(const std::vector<ValidationIssue>& issues);
Json MakeOperationOutcome(const std::string& code, const std::string& diagnostics,
                          const std::string& expression = "", const std::string& severity = "error");

bool IsValidId(std::string_view id);

}  // namespace haip::lake

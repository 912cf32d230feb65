// Pieces of Chinese clinical notes rendered from structured facts. Values are
// formatted exactly as in the Observation resources so text and codes agree.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "synth/model.h"

namespace haip::synth {

// "3天", "2个月", "5年"; nothing for DurUnit::kNone.
void AppendDuration(std::string& out, DurUnit unit, int amount);
// "T 36.8℃，P 80次/分，R 18次/分，BP 130/80mmHg，SpO2 98%"
void AppendVitals(std::string& out, const VitalSigns& v);
// "糖化血红蛋白 8.2%（↑），空腹血糖 9.1mmol/L（↑）"
void AppendLabs(std::string& out, Sex sex, std::span<const LabResult> labs);
// "二甲双胍 0.5g 口服 每日两次"
void AppendDrug(std::string& out, Drug drug);
// Drugs joined with "；", each once.
void AppendDrugs(std::string& out, std::span<const MedOrder> meds);
// Procedure names joined with "、", each once.
void AppendProcs(std::string& out, std::span<const ProcRecord> procs);
// "1. 急性心肌梗死　2. 原发性高血压"
void AppendDiagnoses(std::string& out, const PatientRecord& p, const std::vector<int>& conditions);
const char* SexText(Sex sex);

}  // namespace haip::synth

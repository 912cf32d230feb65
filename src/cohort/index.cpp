#include "cohort/index.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <limits>
#include <mutex>
#include <roaring/roaring.hh>
#include <thread>

#include "core/error.h"

namespace haip::cohort {
namespace {

constexpr uint32_t kNone = std::numeric_limits<uint32_t>::max();
constexpr uint16_t kNoUnit = 0;  // id 0 is "no unit"
constexpr uint16_t kNoDept = 0;

// One event as the index keeps it: 24 bytes.
struct Ev {
  uint32_t cid;
  int32_t day;
  double value;     // NaN: none
  uint32_t source;  // resource ordinal (kNone for bulk-loaded events)
  uint16_t unit;
  uint16_t dept;
};

uint8_t GenderCode(std::string_view g) {
  if (g == "male") return 1;
  if (g == "female") return 2;
  if (g == "other") return 3;
  if (g == "unknown") return 4;
  return 0;  // absent: matches no gender rule
}

struct Slot {
  std::string id;
  int32_t birth_day = 0;
  bool has_birth = false;
  bool has_person = false;
  uint8_t gender = 0;
  std::vector<Ev> events;
};

struct ConceptInfo {
  Domain domain;
  std::string system, code, display;
  Roaring patients;
};

// ---- compiled criteria ---------------------------------------------------------

struct CFilter {
  std::vector<uint8_t> concept_ok;  // by cid id: domain, set and class match
  std::vector<uint32_t> concepts;   // the ids with concept_ok set
  bool check_value = false;
  double lo = -std::numeric_limits<double>::infinity(), hi = std::numeric_limits<double>::infinity();
  bool lo_open = false, hi_open = false;
  std::optional<double> eq;
  bool check_unit = false;
  uint16_t unit = kNoUnit;  // kNoUnit with check_unit: a unit the index never saw
  std::vector<uint8_t> dept_ok;     // by dept id, empty = any

  bool Matches(const Ev& e) const {
    if (e.cid >= concept_ok.size() || !concept_ok[e.cid]) return false;
    if (check_value) {
      if (std::isnan(e.value)) return false;
      if (lo_open ? !(e.value > lo) : !(e.value >= lo)) return false;
      if (hi_open ? !(e.value < hi) : !(e.value <= hi)) return false;
      if (eq && e.value != *eq) return false;
    }
    if (check_unit && (unit == kNoUnit || e.unit != unit)) return false;
    if (!dept_ok.empty() && (e.dept >= dept_ok.size() || !dept_ok[e.dept])) return false;
    return true;
  }
};

struct CRule {
  Rule::Kind kind;
  int filter = -1;  // index into the compiled filters
  int64_t start = std::numeric_limits<int32_t>::min(), end = std::numeric_limits<int32_t>::max();
  Rule::Count count;
  int count_n = 1;
  int age_min = 0, age_max = std::numeric_limits<int>::max();
  uint8_t genders = 0;  // bit per gender code
  std::vector<CRule> children;
  int at_least = 0;
};

}  // namespace

struct CohortIndex::Impl {
  std::vector<Slot> slots;
  std::unordered_map<std::string, uint32_t> slot_of;
  std::vector<ConceptInfo> concepts;
  std::unordered_map<std::string, uint32_t> concept_of;  // domain \x1f system \x1f code
  std::vector<std::string> units{""};
  std::unordered_map<std::string, uint16_t> unit_of;
  std::vector<std::pair<std::string, std::string>> depts{{"", ""}};  // (ref id, display)
  std::unordered_map<std::string, uint16_t> dept_of;
  std::unordered_map<std::string, uint32_t> resource_of;  // "type/id" -> ordinal
  std::vector<uint32_t> resource_slot;                    // ordinal -> slot (kNone: none)
  int64_t event_count = 0;

  uint32_t SlotFor(const std::string& patient) {
    auto [it, inserted] = slot_of.try_emplace(patient, static_cast<uint32_t>(slots.size()));
    if (inserted) slots.push_back(Slot{patient, 0, false, false, 0, {}});
    return it->second;
  }

  uint32_t ConceptFor(const Event& e) {
    std::string key;
    key.reserve(e.system.size() + e.code.size() + 3);
    key += static_cast<char>('0' + static_cast<int>(e.domain));
    key += '\x1f';
    key += e.system;
    key += '\x1f';
    key += e.code;
    auto [it, inserted] = concept_of.try_emplace(std::move(key), static_cast<uint32_t>(concepts.size()));
    if (inserted) concepts.push_back(ConceptInfo{e.domain, e.system, e.code, e.display, {}});
    else if (concepts[it->second].display.empty() && !e.display.empty()) concepts[it->second].display = e.display;
    return it->second;
  }

  uint16_t UnitFor(const std::string& unit) {
    if (unit.empty()) return kNoUnit;
    auto it = unit_of.find(unit);
    if (it != unit_of.end()) return it->second;
    if (units.size() >= std::numeric_limits<uint16_t>::max()) {
      throw Error(ErrorCode::kInternal, "cohort index: more than 65535 distinct units");
    }
    units.push_back(unit);
    return unit_of[unit] = static_cast<uint16_t>(units.size() - 1);
  }

  uint16_t DeptFor(const std::string& ref, const std::string& name) {
    if (ref.empty() && name.empty()) return kNoDept;
    std::string key = ref + '\x1f' + name;
    auto it = dept_of.find(key);
    if (it != dept_of.end()) return it->second;
    if (depts.size() >= std::numeric_limits<uint16_t>::max()) {
      throw Error(ErrorCode::kInternal, "cohort index: more than 65535 distinct departments");
    }
    depts.emplace_back(ref, name);
    return dept_of[key] = static_cast<uint16_t>(depts.size() - 1);
  }

  // Each patient's events stay sorted by (concept, day), so a rule reads
  // only the events of its concepts within its window.
  void Append(uint32_t slot, const Event& e, uint32_t source, bool keep_sorted) {
    uint32_t c = ConceptFor(e);
    Ev ev{c, e.day, e.value, source, UnitFor(e.unit), DeptFor(e.department, e.department_name)};
    auto& evs = slots[slot].events;
    if (keep_sorted) evs.insert(std::upper_bound(evs.begin(), evs.end(), ev, EvLess), ev);
    else evs.push_back(ev);
    concepts[c].patients.add(slot);
    ++event_count;
  }
  static bool EvLess(const Ev& a, const Ev& b) { return a.cid != b.cid ? a.cid < b.cid : a.day < b.day; }

  void SetPerson(const Person& p) {
    Slot& s = slots[SlotFor(p.id)];
    s.has_person = true;
    s.has_birth = p.has_birth;
    s.birth_day = p.birth_day;
    s.gender = GenderCode(p.gender);
  }

  // Removes the events of resource `ord` and fixes the bitmaps.
  void RemoveSource(uint32_t ord) {
    uint32_t slot = resource_slot[ord];
    if (slot == kNone) return;
    auto& evs = slots[slot].events;
    std::vector<uint32_t> touched;
    auto end = std::remove_if(evs.begin(), evs.end(), [&](const Ev& e) {
      if (e.source != ord) return false;
      touched.push_back(e.cid);
      return true;
    });
    event_count -= evs.end() - end;
    evs.erase(end, evs.end());
    std::sort(touched.begin(), touched.end());
    touched.erase(std::unique(touched.begin(), touched.end()), touched.end());
    for (uint32_t c : touched) {
      bool still = std::any_of(evs.begin(), evs.end(), [&](const Ev& e) { return e.cid == c; });
      if (!still) concepts[c].patients.remove(slot);
    }
    resource_slot[ord] = kNone;
  }

  // ---- compiling criteria ----

  CFilter Compile(const EventFilter& f, const Criteria& criteria) const {
    CFilter cf;
    cf.concept_ok.assign(concepts.size(), 0);
    const ConceptSet* set = f.concept_set.empty() ? nullptr : criteria.FindSet(f.concept_set);
    for (uint32_t c = 0; c < concepts.size(); ++c) {
      const ConceptInfo& info = concepts[c];
      if (info.domain != f.domain) continue;
      if (set != nullptr) {
        bool in = false;
        for (const auto& item : set->items) {
          if (item.system != info.system) continue;
          if (item.descendants ? info.code.compare(0, item.code.size(), item.code) == 0 : info.code == item.code) {
            in = true;
            break;
          }
        }
        if (!in) continue;
      }
      if (!f.classes.empty() && std::find(f.classes.begin(), f.classes.end(), info.code) == f.classes.end()) continue;
      cf.concept_ok[c] = 1;
      cf.concepts.push_back(c);
    }
    const ValueFilter& v = f.value;
    if (v.gt || v.gte || v.lt || v.lte || v.eq) {
      cf.check_value = true;
      if (v.gt) cf.lo = *v.gt, cf.lo_open = true;
      if (v.gte && (!v.gt || *v.gte > *v.gt)) cf.lo = *v.gte, cf.lo_open = false;
      if (v.lt) cf.hi = *v.lt, cf.hi_open = true;
      if (v.lte && (!v.lt || *v.lte < *v.lt)) cf.hi = *v.lte, cf.hi_open = false;
      cf.eq = v.eq;
    }
    if (!v.unit.empty()) {
      cf.check_unit = true;
      auto it = unit_of.find(v.unit);
      cf.unit = it == unit_of.end() ? kNoUnit : it->second;
    }
    if (!f.departments.empty()) {
      cf.dept_ok.assign(depts.size(), 0);
      for (size_t d = 1; d < depts.size(); ++d) {
        for (const auto& want : f.departments) {
          if (depts[d].first == want || depts[d].second == want) cf.dept_ok[d] = 1;
        }
      }
    }
    return cf;
  }

  CRule Compile(const Rule& r, const Criteria& criteria, std::vector<CFilter>& filters) const {
    CRule cr;
    cr.kind = r.kind;
    switch (r.kind) {
      case Rule::Kind::kEvent:
        cr.filter = static_cast<int>(filters.size());
        filters.push_back(Compile(r.event, criteria));
        if (r.window.start) cr.start = *r.window.start;
        if (r.window.end) cr.end = *r.window.end;
        cr.count = r.count;
        cr.count_n = r.count_n;
        break;
      case Rule::Kind::kAge:
        if (r.age_gt) cr.age_min = std::max(cr.age_min, *r.age_gt + 1);
        if (r.age_gte) cr.age_min = std::max(cr.age_min, *r.age_gte);
        if (r.age_lt) cr.age_max = std::min(cr.age_max, *r.age_lt - 1);
        if (r.age_lte) cr.age_max = std::min(cr.age_max, *r.age_lte);
        break;
      case Rule::Kind::kGender:
        for (const auto& g : r.genders) cr.genders |= static_cast<uint8_t>(1u << GenderCode(g));
        break;
      default:
        for (const auto& child : r.children) cr.children.push_back(Compile(child, criteria, filters));
        cr.at_least = r.at_least;
    }
    return cr;
  }

  static bool Eval(const CRule& r, const Slot& s, int32_t index_day, const std::vector<CFilter>& filters) {
    switch (r.kind) {
      case Rule::Kind::kEvent: {
        const CFilter& f = filters[r.filter];
        const int64_t lo = r.start == std::numeric_limits<int32_t>::min() ? r.start : index_day + r.start;
        const int64_t hi = r.end == std::numeric_limits<int32_t>::max() ? r.end : index_day + r.end;
        int n = 0;
        // Stop as soon as the answer is known.
        const int stop = r.count == Rule::Count::kAtLeast ? r.count_n : r.count_n + 1;
        if (stop == 0) return true;  // "at least 0"
        if (f.concepts.size() <= 16) {
          // Events sorted by (concept, day): jump to each concept's window.
          for (uint32_t c : f.concepts) {
            auto it = std::lower_bound(s.events.begin(), s.events.end(), std::make_pair(c, lo),
                                       [](const Ev& e, const std::pair<uint32_t, int64_t>& k) {
                                         return e.cid != k.first ? e.cid < k.first : e.day < k.second;
                                       });
            for (; it != s.events.end() && it->cid == c && it->day <= hi; ++it) {
              if (f.Matches(*it) && ++n >= stop) break;
            }
            if (n >= stop) break;
          }
        } else {
          for (const Ev& e : s.events) {
            if (e.day < lo || e.day > hi || !f.Matches(e)) continue;
            if (++n >= stop) break;
          }
        }
        switch (r.count) {
          case Rule::Count::kAtLeast: return n >= r.count_n;
          case Rule::Count::kAtMost: return n <= r.count_n;
          case Rule::Count::kExactly: return n == r.count_n;
        }
        return false;
      }
      case Rule::Kind::kAge: {
        if (!s.has_birth) return false;
        int age = AgeYears(s.birth_day, index_day);
        return age >= r.age_min && age <= r.age_max;
      }
      case Rule::Kind::kGender:
        return s.gender != 0 && (r.genders & (1u << s.gender)) != 0;
      case Rule::Kind::kAll:
        for (const auto& c : r.children) {
          if (!Eval(c, s, index_day, filters)) return false;
        }
        return true;
      case Rule::Kind::kAny:
        for (const auto& c : r.children) {
          if (Eval(c, s, index_day, filters)) return true;
        }
        return false;
      case Rule::Kind::kNot:
        return !Eval(r.children[0], s, index_day, filters);
      case Rule::Kind::kAtLeast: {
        int n = 0;
        if (r.at_least == 0) return true;
        for (const auto& c : r.children) {
          if (Eval(c, s, index_day, filters) && ++n >= r.at_least) return true;
        }
        return false;
      }
    }
    return false;
  }
};

CohortIndex::CohortIndex() : impl_(std::make_unique<Impl>()) {}
CohortIndex::~CohortIndex() = default;

void CohortIndex::Put(const std::string& type, const std::string& id, const Facts& facts) {
  std::unique_lock lock(mu_);
  Impl& m = *impl_;
  std::string key = type + "/" + id;
  if (type == "Patient") {
    if (facts.person) {
      m.SetPerson(*facts.person);
    } else if (auto it = m.slot_of.find(id); it != m.slot_of.end()) {
      m.slots[it->second].has_person = false;  // deleted: out of every cohort
    }
  }
  auto it = m.resource_of.find(key);
  if (it != m.resource_of.end()) m.RemoveSource(it->second);
  if (facts.events.empty()) return;
  uint32_t ord;
  if (it != m.resource_of.end()) {
    ord = it->second;
  } else {
    ord = static_cast<uint32_t>(m.resource_slot.size());
    m.resource_slot.push_back(kNone);
    m.resource_of.emplace(std::move(key), ord);
  }
  // Every event of one resource belongs to the same patient.
  uint32_t slot = m.SlotFor(facts.events.front().patient);
  m.resource_slot[ord] = slot;
  for (const auto& e : facts.events) {
    if (e.patient != facts.events.front().patient) continue;
    m.Append(slot, e, ord, true);
  }
}

void CohortIndex::AddPerson(const Person& person) {
  std::unique_lock lock(mu_);
  impl_->SetPerson(person);
}

void CohortIndex::AddEvents(const std::vector<Event>& events) {
  std::unique_lock lock(mu_);
  std::vector<uint32_t> touched;
  for (const auto& e : events) {
    uint32_t slot = impl_->SlotFor(e.patient);
    impl_->Append(slot, e, kNone, false);
    touched.push_back(slot);
  }
  std::sort(touched.begin(), touched.end());
  touched.erase(std::unique(touched.begin(), touched.end()), touched.end());
  for (uint32_t slot : touched) {
    auto& evs = impl_->slots[slot].events;
    std::stable_sort(evs.begin(), evs.end(), Impl::EvLess);
  }
}

IndexStats CohortIndex::Stats() const {
  std::shared_lock lock(mu_);
  IndexStats s;
  for (const auto& slot : impl_->slots) s.patients += slot.has_person ? 1 : 0;
  s.events = impl_->event_count;
  s.concepts = static_cast<int64_t>(impl_->concepts.size());
  s.resources = static_cast<int64_t>(impl_->resource_of.size());
  return s;
}

std::vector<CohortIndex::ConceptHit> CohortIndex::SearchConcepts(const std::string& text, size_t limit) const {
  auto lower = [](std::string s) {
    for (auto& ch : s) ch = static_cast<char>(ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch);
    return s;
  };
  const std::string needle = lower(text);
  std::shared_lock lock(mu_);
  std::vector<ConceptHit> hits;
  for (const auto& c : impl_->concepts) {
    if (!needle.empty() && lower(c.code).find(needle) == std::string::npos &&
        lower(c.display).find(needle) == std::string::npos) {
      continue;
    }
    int64_t n = static_cast<int64_t>(c.patients.cardinality());
    if (n == 0) continue;
    hits.push_back({c.domain, c.system, c.code, c.display, n});
  }
  std::sort(hits.begin(), hits.end(), [](const ConceptHit& a, const ConceptHit& b) {
    return a.patients != b.patients ? a.patients > b.patients : a.code < b.code;
  });
  if (hits.size() > limit) hits.resize(limit);
  return hits;
}

CohortResult CohortIndex::Run(const Criteria& criteria, bool with_patients) const {
  const auto t0 = std::chrono::steady_clock::now();
  std::shared_lock lock(mu_);
  const Impl& m = *impl_;
  CohortResult result;
  for (const auto& s : m.slots) result.patients_total += s.has_person ? 1 : 0;

  std::vector<CFilter> filters;
  std::vector<CFilter> entry;
  for (const auto& f : criteria.entry) entry.push_back(m.Compile(f, criteria));
  std::vector<CRule> rules;
  for (const auto& nr : criteria.rules) rules.push_back(m.Compile(nr.rule, criteria, filters));
  const size_t n_rules = rules.size();
  if (n_rules > 63) throw Error(ErrorCode::kBadRequest, "criteria: at most 63 inclusion and exclusion rules");

  // Entry candidates: patients with any cid an entry filter accepts.
  std::vector<const Roaring*> inputs;
  for (const auto& f : entry) {
    for (uint32_t c : f.concepts) inputs.push_back(&m.concepts[c].patients);
  }
  Roaring candidates =
      inputs.empty() ? Roaring() : Roaring::fastunion(inputs.size(), inputs.data());
  std::vector<uint32_t> cand(candidates.cardinality());
  if (!cand.empty()) candidates.toUint32Array(cand.data());

  // Per candidate: its index days, then the rules each passes. Result per
  // candidate: bit 63 = has an entry; for attrition step k, whether some
  // index event passes rules 0..k-1 (bit k), and rule k alone (passed mask).
  struct PerPatient {
    uint64_t seq = 0;    // bit k set: some index event passes rules [0, k)  (k = 0..n_rules)
    uint64_t alone = 0;  // bit k set: some index event passes rule k
  };
  std::vector<PerPatient> per(cand.size());
  const int32_t from = criteria.entry_from.value_or(std::numeric_limits<int32_t>::min());
  const int32_t to = criteria.entry_to.value_or(std::numeric_limits<int32_t>::max());
  auto work = [&](size_t begin, size_t end) {
    std::vector<int32_t> days;
    for (size_t i = begin; i < end; ++i) {
      const Slot& s = m.slots[cand[i]];
      if (!s.has_person) continue;
      days.clear();
      for (const auto& f : entry) {
        if (f.concepts.size() <= 16) {
          for (uint32_t c : f.concepts) {
            auto it = std::lower_bound(s.events.begin(), s.events.end(), std::make_pair(c, from),
                                       [](const Ev& e, const std::pair<uint32_t, int32_t>& k) {
                                         return e.cid != k.first ? e.cid < k.first : e.day < k.second;
                                       });
            for (; it != s.events.end() && it->cid == c && it->day <= to; ++it) {
              if (f.Matches(*it)) days.push_back(it->day);
            }
          }
        } else {
          for (const Ev& e : s.events) {
            if (e.day >= from && e.day <= to && f.Matches(e)) days.push_back(e.day);
          }
        }
      }
      if (days.empty()) continue;
      std::sort(days.begin(), days.end());
      days.erase(std::unique(days.begin(), days.end()), days.end());
      if (criteria.occurrence == Criteria::Occurrence::kFirst) days.resize(1);
      else if (criteria.occurrence == Criteria::Occurrence::kLast) days.erase(days.begin(), days.end() - 1);
      PerPatient& pp = per[i];
      const uint64_t all_rules = n_rules == 64 ? ~uint64_t{0} : (uint64_t{1} << n_rules) - 1;
      for (int32_t day : days) {
        // Rule k is evaluated only while it can still change the answer: its
        // prefix is unbroken for this index event, or the patient has not
        // yet passed it alone.
        bool prefix = true;
        uint64_t seq = 1;  // k = 0: the entry itself
        for (size_t k = 0; k < n_rules; ++k) {
          const uint64_t bit = uint64_t{1} << k;
          if (!prefix && (pp.alone & bit)) continue;
          bool ok = Impl::Eval(rules[k], s, day, filters);
          if (criteria.rules[k].exclusion) ok = !ok;
          if (ok) pp.alone |= bit;
          prefix = prefix && ok;
          if (prefix) seq |= bit << 1;
        }
        pp.seq |= seq;
        // Every statistic of this patient is settled.
        if ((pp.seq >> n_rules & 1) && (pp.alone & all_rules) == all_rules) break;
      }
    }
  };
  const size_t threads = cand.size() < 20000 ? 1 : std::min<size_t>(4, std::max(1u, std::thread::hardware_concurrency()));
  if (threads == 1) {
    work(0, cand.size());
  } else {
    std::vector<std::thread> pool;
    const size_t chunk = (cand.size() + threads - 1) / threads;
    for (size_t t = 0; t < threads; ++t) {
      size_t b = t * chunk, e = std::min(cand.size(), b + chunk);
      if (b < e) pool.emplace_back(work, b, e);
    }
    for (auto& th : pool) th.join();
  }

  std::vector<int64_t> seq_counts(n_rules + 1, 0), alone_counts(n_rules, 0);
  for (const auto& pp : per) {
    for (size_t k = 0; k <= n_rules; ++k) seq_counts[k] += (pp.seq >> k) & 1;
    for (size_t k = 0; k < n_rules; ++k) alone_counts[k] += (pp.alone >> k) & 1;
  }
  result.attrition.push_back({"entry", false, seq_counts[0], seq_counts[0]});
  for (size_t k = 0; k < n_rules; ++k) {
    result.attrition.push_back({criteria.rules[k].name, criteria.rules[k].exclusion, seq_counts[k + 1], alone_counts[k]});
  }
  result.count = seq_counts[n_rules];
  if (with_patients) {
    for (size_t i = 0; i < cand.size(); ++i) {
      if ((per[i].seq >> n_rules) & 1) result.patients.push_back(m.slots[cand[i]].id);
    }
    std::sort(result.patients.begin(), result.patients.end());
  }
  result.elapsed_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return result;
}

}  // namespace haip::cohort

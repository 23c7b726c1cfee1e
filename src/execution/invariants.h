// Stage 4, invariants: checks run after every tx on the writes it made.
#pragma once

#include "automata/execution/overlay.h"
#include "check.h"

namespace automata::execution {

// Supply per denom is conserved: over every account that `changes` wrote,
// the sum of balances per denom equals the sum before (read from
// changes.parent()), and no supply record changed. Returns
// kSupplyNotConserved with a log naming the denom and both sums. Computed
// from the stored accounts alone, so it catches a bug in any module. A
// non-ok Status means the state could not be read.
Status check_supply_conserved(Overlay& changes, StageResult* result);

// Ownable objects stay consistent: no ownership cycle, wrapped objects are
// listed by their composite and unmoved (objects::check_object_invariants).
// Then, for every model NFT the tx wrote or deleted, its owner, model and
// creator index entries exist (or are gone once it is deleted) and an old
// owner's index entry is gone after a change of owner
// (model::check_model_invariants). Returns kObjectInvariantViolated with a
// log naming the object or model and the rule. A non-ok Status means the
// state could not be read.
Status check_objects_consistent(Overlay& changes, StageResult* result);

}  // namespace automata::execution

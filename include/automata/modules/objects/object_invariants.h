// Invariants over ownable objects, checked after every tx on the writes it
// made (stage 4).
#pragma once

#include "automata/execution/overlay.h"
#include "automata/types/status.h"

#include <string>

namespace automata::objects {

// Checks every object that `changes` wrote:
//  - no ownership cycle: following wrapped_by from the object ends at an
//    unwrapped object within kMaxCompositeDepth steps;
//  - a wrapped object has no owner address, and its wrapper exists and
//    lists it as a child;
//  - a wrapped child is unmoved: an object wrapped by the same composite
//    before and after the tx kept its owner and body;
//  - a wrapped object is neither deleted nor unwrapped while its wrapper
//    still lists it.
// problem receives a message naming the object and the rule, or stays
// empty. A non-ok Status means state could not be read.
Status check_object_invariants(execution::Overlay& changes, std::string* problem);

}  // namespace automata::objects

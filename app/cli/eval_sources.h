#pragma once
// `hipreader-cli eval sources`, built where the document library is (HIPREADER_HAS_DOCUMENTS).

#include "arguments.h"

namespace cli {

int evalSources(Arguments& args);

} // namespace cli

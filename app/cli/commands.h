#pragma once
// The subcommands of hipreader-cli. Each takes the arguments after its name and returns the
// process exit status.

#include "arguments.h"

namespace cli {

int runInfo(Arguments& args);
int runGenerate(Arguments& args);
int runChat(Arguments& args);
int runAsk(Arguments& args);
int runBench(Arguments& args);
int runEval(Arguments& args);
int runMakeModel(Arguments& args);
int runServe(Arguments& args);

} // namespace cli

// automata: the command-line client of an Automata node.
#include "automata/cli/app.h"

#include <iostream>

int main(int argc, char** argv) { return automata::cli::run_cli(argc, argv, std::cout, std::cerr); }

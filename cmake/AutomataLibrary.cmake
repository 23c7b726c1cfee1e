# automata_layer(NAME DIR DEPS...) builds every .cc file under src/DIR into
# the static library automata_NAME. Layers link only to layers below them.
function(automata_layer name dir)
  file(GLOB_RECURSE sources CONFIGURE_DEPENDS "${PROJECT_SOURCE_DIR}/src/${dir}/*.cc")
  if(NOT sources)
    message(STATUS "automata_${name}: no sources under src/${dir} yet, skipped")
    return()
  endif()
  add_library(automata_${name} STATIC ${sources})
  target_include_directories(automata_${name} PUBLIC "${PROJECT_SOURCE_DIR}/include"
                                              PRIVATE "${PROJECT_SOURCE_DIR}/src")
  target_compile_options(automata_${name} PRIVATE ${AUTOMATA_WARNINGS})
  target_link_libraries(automata_${name} PUBLIC ${ARGN})
endfunction()

# automata_test(NAME DIR DEPS...) builds every .cc under tests/DIR into
# one GoogleTest binary registered with CTest.
function(automata_test name dir)
  # Every .cc in the folder: *_test.cc files plus shared fixtures.
  file(GLOB sources CONFIGURE_DEPENDS "${PROJECT_SOURCE_DIR}/tests/${dir}/*.cc")
  if(NOT sources)
    return()
  endif()
  add_executable(${name} ${sources})
  target_include_directories(${name} PRIVATE "${PROJECT_SOURCE_DIR}/tests" "${PROJECT_SOURCE_DIR}/src")
  target_compile_options(${name} PRIVATE ${AUTOMATA_WARNINGS})
  target_compile_definitions(${name} PRIVATE
      AUTOMATA_TESTDATA_DIR="${PROJECT_SOURCE_DIR}/tests/testdata"
      AUTOMATA_BINARY_DIR="${PROJECT_BINARY_DIR}")
  target_link_libraries(${name} PRIVATE ${ARGN} GTest::gtest GTest::gtest_main GTest::gmock)
  include(GoogleTest)
  set(properties LABELS ${dir})
  # A localnet test runs four nodes. Two of them at once on a 2-core
  # machine starve each other's nodes past the tests' timeouts, so CTest
  # runs them one at a time (beside lighter tests).
  if(dir STREQUAL "localnet")
    list(APPEND properties RESOURCE_LOCK localnet)
  endif()
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 PROPERTIES ${properties})
endfunction()

# One smoke run of a fuzz target, for ctest:
#   cmake -DFUZZER=... -DCORPUS=... -DSEEDS=... -DARTIFACTS=... -DSECONDS=60
#         -DMAX_LEN=... -P run_fuzzer.cmake
# New inputs go to CORPUS (kept between runs, so coverage accumulates); the
# seeds are read only. Fails when the fuzzer reports a crash, a sanitizer
# finding, a failed check, a timeout or too much memory (its exit code), and
# prints the exec count and rate.
file(MAKE_DIRECTORY "${CORPUS}" "${ARTIFACTS}")
get_filename_component(_name "${FUZZER}" NAME)
execute_process(
  COMMAND "${FUZZER}" -max_total_time=${SECONDS} -timeout=10 -rss_limit_mb=2048 -max_len=${MAX_LEN}
          -print_final_stats=1 -artifact_prefix=${ARTIFACTS}/ "${CORPUS}" "${SEEDS}"
  RESULT_VARIABLE _rc
  OUTPUT_VARIABLE _out
  ERROR_VARIABLE _err)
message("${_out}${_err}")
string(REGEX MATCH "stat::number_of_executed_units: ([0-9]+)" _m "${_err}")
set(_runs "${CMAKE_MATCH_1}")
string(REGEX MATCH "Done [0-9]+ runs in ([0-9]+) second" _m "${_err}")
set(_secs "${CMAKE_MATCH_1}")
if(_runs AND _secs)
  math(EXPR _rate "${_runs} / ${_secs}")
  message("${_name}: ${_runs} execs in ${_secs} s (${_rate} execs/s)")
endif()
if(NOT _rc EQUAL 0)
  message(FATAL_ERROR "${_name} failed (exit ${_rc}); the input that failed is in ${ARTIFACTS}")
endif()

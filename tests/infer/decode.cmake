# Tests of haip_infer_decode: sampler, stop strings, grammar engine, token
# masks, JSON Schema -> grammar, and the random-schema generation run (must-show
# 2 of issue 6). Real vocabularies come from ../shared/models; those tests skip
# when it is absent and the synthetic-vocabulary runs still go.
add_executable(infer_decode_tests
  ${CMAKE_CURRENT_LIST_DIR}/decode_sampler_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/decode_stop_strings_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/decode_grammar_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/decode_json_schema_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/decode_generation_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/decode_testing.cpp
)
target_link_libraries(infer_decode_tests PRIVATE haip_infer_decode haip_infer_text GTest::gtest_main)
target_compile_definitions(infer_decode_tests PRIVATE HAIP_SHARED="${CMAKE_SOURCE_DIR}/../shared")
gtest_discover_tests(infer_decode_tests DISCOVERY_TIMEOUT 60 PROPERTIES TIMEOUT 900)

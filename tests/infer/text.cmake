# Tests of haip_infer_text (GGUF, tokenizer, chat templates). Data from
# ../shared (models and tokenizer vectors); tests skip when it is absent.
add_executable(infer_text_tests
  ${CMAKE_CURRENT_LIST_DIR}/gguf_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/tokenizer_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/chat_template_test.cpp
)
target_link_libraries(infer_text_tests PRIVATE haip_infer_text GTest::gtest_main)
target_compile_definitions(infer_text_tests PRIVATE HAIP_SHARED="${CMAKE_SOURCE_DIR}/../shared"
                                          HAIP_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
gtest_discover_tests(infer_text_tests DISCOVERY_TIMEOUT 60 PROPERTIES TIMEOUT 600)
add_test(NAME fuzz.gguf COMMAND bash ${CMAKE_SOURCE_DIR}/fuzz/run.sh gguf 30)
set_tests_properties(fuzz.gguf PROPERTIES TIMEOUT 600 LABELS fuzz)

# haip_infer_decode: sampling, stop strings, grammars, token masks and the
# JSON Schema -> grammar converter. Depends on haip_core only: the vocabulary
# comes in as plain token bytes, so any tokenizer can drive it.
add_library(haip_infer_decode STATIC
  ${CMAKE_CURRENT_LIST_DIR}/grammar.cpp
  ${CMAKE_CURRENT_LIST_DIR}/grammar_constraint.cpp
  ${CMAKE_CURRENT_LIST_DIR}/json_schema_grammar.cpp
  ${CMAKE_CURRENT_LIST_DIR}/regex_grammar.cpp
  ${CMAKE_CURRENT_LIST_DIR}/sampler.cpp
  ${CMAKE_CURRENT_LIST_DIR}/stop_strings.cpp
)
target_link_libraries(haip_infer_decode PUBLIC haip_core)

#!/usr/bin/env bash
# gemma-run --tokenize / --detokenize, end to end.
#   cli_tokenizer_test.sh GEMMA_RUN GEMMA_QUANTIZE
# Expected ids are llama.cpp's (tests/data/tokenizer/synth_expected.json for the synthetic
# vocabulary; llama.cpp issue #23252 for the real one), with <bos> = 2 in front.
set -euo pipefail
# $GEMMA_EXE_WRAPPER (e.g. qemu-aarch64 in cross builds) runs the binaries when set.
read -ra wrapper <<< "${GEMMA_EXE_WRAPPER:-}"
run=("${wrapper[@]}" "$1") quantize=("${wrapper[@]}" "$2")
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
fails=0
check() {  # check NAME EXPECTED ACTUAL
  if [[ "$2" == "$3" ]]; then echo "ok   $1"; else echo "FAIL $1: expected [$2], got [$3]"; fails=$((fails + 1)); fi
}

synth="$tmp/synth.gguf"
"${quantize[@]}" synth --preset tiny -o "$synth" >/dev/null 2>&1
check "synth tokenize" "[2,315,344,476,417,475]" "$("${run[@]}" -m "$synth" --tokenize "Hello world")"
check "synth no bos" "[315,344,476,417,475]" "$("${run[@]}" -m "$synth" --tokenize "Hello world" --no-bos)"
check "synth detokenize" "<bos>Hello world" "$("${run[@]}" -m "$synth" --detokenize 2,315,344,476,417,475)"
turn=$("${run[@]}" -m "$synth" --tokenize "<|turn>" --parse-special --no-bos)
check "parse special" "1" "$(tr -cd ',' <<<"$turn" | wc -c | awk '{print $1 + 1}')"
check "control stays text" "true" "$([[ $("${run[@]}" -m "$synth" --tokenize "<|turn>" --no-bos) != "$turn" ]] && echo true)"

# stdin: raw bytes with NUL and an ill-formed byte survive the round trip byte for byte.
printf 'a\0b\xff c\n\n' > "$tmp/in.bin"
ids=$("${run[@]}" -m "$synth" --tokenize - --no-bos < "$tmp/in.bin")
ids=${ids#[}; ids=${ids%]}
"${run[@]}" -m "$synth" --detokenize "$ids" > "$tmp/out.bin"
check "stdin round trip" "same" "$(cmp -s "$tmp/in.bin" "$tmp/out.bin" && echo same || echo differ)"

# Errors: exit 1 and one line on stderr.
for args in "--detokenize 2,x" "--detokenize 99999" "--detokenize ,"; do
  set +e
  err=$("${run[@]}" -m "$synth" $args 2>&1 >/dev/null); status=$?
  set -e
  check "error exit: $args" "1 1" "$status $(wc -l <<<"$err")"
done

# The real vocabulary as a vocab-only GGUF (no tensors): tokenizing needs no weights.
vocab=""
for dir in "${GEMMA_CACHE:-}" "${GEMMA_SOURCE_ROOT:+$GEMMA_SOURCE_ROOT/.cache}"; do
  [[ -n "$dir" && -f "$dir/tokenizer/gemma4_vocab.gguf" ]] && vocab="$dir/tokenizer/gemma4_vocab.gguf" && break
done
if [[ -z "$vocab" ]]; then
  echo "FAIL real vocabulary missing: run scripts/tokenizer-vocab (scripts/test does)"
  exit 1
fi
check "real vocab, no tensors" "[2,9259,1902,236888,62367,29234,11042,2192,236743,236770,236778,236800,103453]" \
  "$("${run[@]}" -m "$vocab" --tokenize "Hello world! Café déjà vu — 123 😊")"
check "real detokenize" "<bos>Hello world! Café déjà vu — 123 😊" \
  "$("${run[@]}" -m "$vocab" --detokenize 2,9259,1902,236888,62367,29234,11042,2192,236743,236770,236778,236800,103453)"

((fails == 0)) || { echo "$fails check(s) failed"; exit 1; }

// tasks/grading/choice_extract.h — which option letter a multiple-choice answer (GPQA) commits to.
//
// The model's last commitment wins, whatever its form:
//   - a box (`\boxed{C}`, `\boxed{\text{C) 4.5 eV}}`), an `<answer>` tag, or a label line (`Answer: C`,
//     `**Final Answer:**` with the letter on the next line, `Correct option: C (4.5 eV)`, `Final choice — C`),
//     read as a statement: its leading letter, else an option it names ("D-glucose (option B)");
//   - a phrase: "answer"/"option"/"choice" or "it"/"which"/"this", a few words with "is" or "be", then the
//     letter ("the answer is clearly C, not A", "it must be C", "which is D"); the letter first ("Option C is
//     correct", "C is the answer", "Choice (C), 4.5 eV, is correct"); a verb ("I'll go with C", "leaving C");
//   - a line that is only the letter (`**C**`), a bold line that opens with it, or a last line that opens
//     with it ("C. It cannot be B", "Option C: 4.5 eV").
// Conditions state nothing ("If the answer is B, ..."), and neither do negations ("the answer cannot be A"),
// questions ("is the answer C?"), or letters that are part of a word ("D-glucose", "C-H", "B's"). Two
// letters together ("either B or C", "C/D", `\boxed{B} and \boxed{C}`) are a hedge: no answer. Without any
// commitment, a standalone letter that ends the answer counts, unless negated or part of a hedge. In prose
// only an upper-case letter counts (a lower-case "a" is an article), except in parentheses: "(c)".
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace r1lab::grading {

struct ChoiceExtraction {
  std::optional<char> letter;  // upper case; none for no answer or a hedge
  std::string how;             // the rule that decided ("box", "answer line", "phrase", ...) or why none
};

// `question`, when known: the question, then each option's text on a line of its own, A first. Where the
// question names things with the option letters ("compound A", "product B", "A = ...", "A + B"), a bare
// letter in prose may be one of them, so prose must name the option ("option C") to commit; boxes, tags,
// labels and "the answer is C" are read as always. A label or box that holds an option's text ("Answer:
// D∞h") is that option.
ChoiceExtraction extract_choice(std::string_view region, char last_letter = 'D', std::string_view question = {});

}  // namespace r1lab::grading

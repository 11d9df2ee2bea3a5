//! 退回补正: a reviewer returns a contract naming, point by point, what is missing or must
//! change; the statutory clock stops until the clerk resubmits with an answer to every point.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::choice::parse_choice;
use super::field::text_block;

pub const MAX_POINTS: usize = 30;
pub const MAX_POINT_CHARS: usize = 2000;
pub const MAX_ANSWER_NOTE_CHARS: usize = 2000;

/// How the clerk answered a point.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    ToSchema,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::EnumIter,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum AnswerKind {
    /// The text was changed as asked.
    Revised,
    /// The missing material was supplied.
    Supplied,
    /// Not changed, with the reason why.
    Declined,
}

impl AnswerKind {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    pub fn label(self) -> &'static str {
        match self {
            AnswerKind::Revised => "已修改 Revised",
            AnswerKind::Supplied => "已补充 Supplied",
            AnswerKind::Declined => "不修改及理由 Not changed, because",
        }
    }
}

/// One point of a 补正 request, with its answer once the clerk resubmitted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SupplementPoint {
    /// The `request_materials` step that asked it.
    pub request_id: Uuid,
    /// 1, 2, … within the request.
    pub number: i64,
    pub text: String,
    pub requested_at: DateTime<Utc>,
    pub answer: Option<AnswerKind>,
    pub answer_note: Option<String>,
    pub answered_at: Option<DateTime<Utc>>,
}

/// An answer as the clerk sends it with `submit`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswerInput {
    /// The number of the point answered.
    pub point: i64,
    #[schema(value_type = AnswerKind)]
    pub answer: String,
    /// What was done, or for `declined` the reason (required).
    #[serde(default)]
    pub note: Option<String>,
}

/// A checked answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Answer {
    pub point: i64,
    pub kind: AnswerKind,
    pub note: Option<String>,
}

/// The points of a request, each trimmed and bounded.
///
/// # Errors
/// No point, too many, an empty or over-long one.
pub fn parse_points(raw: &[String]) -> Result<Vec<String>, String> {
    let points: Vec<&str> = raw
        .iter()
        .map(|p| p.trim())
        .filter(|p| !p.is_empty())
        .collect();
    if points.is_empty() {
        return Err(
            "须逐项列明需补正的事项 / name, point by point, what must be supplied or changed"
                .into(),
        );
    }
    if points.len() > MAX_POINTS {
        return Err(format!(
            "补正事项不能超过 {MAX_POINTS} 项 / at most {MAX_POINTS} points"
        ));
    }
    points
        .into_iter()
        .map(|p| text_block(p, MAX_POINT_CHARS))
        .collect()
}

/// Checks that `raw` answers each of `open` points exactly once.
///
/// # Errors
/// A point left unanswered, answered twice or unknown; an unknown answer; a refusal without a
/// reason.
pub fn parse_answers(open: &[SupplementPoint], raw: &[AnswerInput]) -> Result<Vec<Answer>, String> {
    let mut answers = Vec::with_capacity(raw.len());
    for input in raw {
        if !open.iter().any(|p| p.number == input.point) {
            return Err(format!(
                "没有第 {0} 项补正事项 / there is no point {0}",
                input.point
            ));
        }
        if answers.iter().any(|a: &Answer| a.point == input.point) {
            return Err(format!(
                "第 {0} 项答复了两次 / point {0} is answered twice",
                input.point
            ));
        }
        let kind: AnswerKind = parse_choice(&input.answer, "答复方式", "answer")?;
        let note = match input.note.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(text) => Some(text_block(text, MAX_ANSWER_NOTE_CHARS)?),
        };
        if kind == AnswerKind::Declined && note.is_none() {
            return Err(format!(
                "第 {0} 项不修改的，须说明理由 / point {0}: say why it is not changed",
                input.point
            ));
        }
        answers.push(Answer {
            point: input.point,
            kind,
            note,
        });
    }
    let missing: Vec<String> = open
        .iter()
        .filter(|p| !answers.iter().any(|a| a.point == p.number))
        .map(|p| p.number.to_string())
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "请逐项答复补正事项，尚未答复第 {0} 项 / answer every point; still open: {0}",
            missing.join("、")
        ));
    }
    Ok(answers)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open(numbers: &[i64]) -> Vec<SupplementPoint> {
        numbers
            .iter()
            .map(|&number| SupplementPoint {
                request_id: Uuid::nil(),
                number,
                text: format!("事项{number}"),
                requested_at: DateTime::UNIX_EPOCH,
                answer: None,
                answer_note: None,
                answered_at: None,
            })
            .collect()
    }

    fn input(point: i64, answer: &str, note: Option<&str>) -> AnswerInput {
        AnswerInput {
            point,
            answer: answer.into(),
            note: note.map(Into::into),
        }
    }

    #[test]
    fn points_are_trimmed_and_blank_ones_dropped() {
        let raw = vec![
            " 补充立项批复 ".to_owned(),
            String::new(),
            "删除第五条".to_owned(),
        ];
        assert_eq!(
            parse_points(&raw).unwrap(),
            vec!["补充立项批复", "删除第五条"]
        );
        assert!(parse_points(&[" ".to_owned()]).is_err());
        assert!(parse_points(&vec!["x".to_owned(); MAX_POINTS + 1]).is_err());
    }

    #[test]
    fn every_point_needs_one_answer_and_a_refusal_needs_a_reason() {
        let points = open(&[1, 2]);
        let both = [
            input(1, "supplied", None),
            input(2, "declined", Some("第五条系法定条款")),
        ];
        assert_eq!(parse_answers(&points, &both).unwrap().len(), 2);
        let one = parse_answers(&points, &[input(1, "revised", None)]).unwrap_err();
        assert!(one.contains('2'), "{one}");
        assert!(
            parse_answers(
                &points,
                &[input(1, "revised", None), input(2, "declined", None)]
            )
            .is_err()
        );
        assert!(
            parse_answers(
                &points,
                &[input(1, "revised", None), input(1, "revised", None)]
            )
            .is_err()
        );
        assert!(parse_answers(&points, &[input(3, "revised", None)]).is_err());
        assert!(
            parse_answers(
                &points,
                &[input(1, "maybe", None), input(2, "revised", None)]
            )
            .is_err()
        );
    }
}

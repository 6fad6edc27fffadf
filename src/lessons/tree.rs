//! Seed 001's decision tree ("Is your code CPU-bound?"), extended with its task table's
//! memory-bound row: questions, answers and leaves, each leaf naming the lessons that prove it.

/// A leaf: the advice for one kind of task, and the lessons that show why.
#[derive(Debug)]
pub struct Leaf {
    /// The kind of task.
    pub task: &'static str,
    /// What to use.
    pub advice: &'static str,
    /// The lessons that prove the advice on this machine.
    pub lessons: &'static [usize],
}

/// Where an answer leads.
#[derive(Debug)]
pub enum Next {
    /// Another question (an index into [`QUESTIONS`]).
    Question(usize),
    /// A leaf (an index into [`LEAVES`]).
    Leaf(usize),
}

/// A question and its answers.
#[derive(Debug)]
pub struct Question {
    /// The question.
    pub text: &'static str,
    /// Each answer and where it leads.
    pub answers: &'static [(&'static str, Next)],
}

/// The questions; the first is the root.
pub static QUESTIONS: [Question; 2] = [
    Question {
        text: "Is your code CPU-bound?",
        answers: &[
            ("Yes", Next::Question(1)),
            ("No, it waits on I/O", Next::Leaf(2)),
            ("No, it streams through memory", Next::Leaf(3)),
        ],
    },
    Question {
        text: "Is it pure Python?",
        answers: &[
            ("Yes", Next::Leaf(0)),
            ("No: NumPy or a C extension", Next::Leaf(1)),
        ],
    },
];

/// The leaves.
pub static LEAVES: [Leaf; 4] = [
    Leaf {
        task: "CPU-bound pure Python",
        advice: "multiprocessing, or a free-threaded build (3.13t)",
        lessons: &[2, 8],
    },
    Leaf {
        task: "NumPy or a C extension",
        advice: "threads can help: the extension releases the GIL",
        lessons: &[4],
    },
    Leaf {
        task: "I/O-bound",
        advice: "threading or asyncio",
        lessons: &[3],
    },
    Leaf {
        task: "memory-bound",
        advice: "fewer workers, better locality",
        lessons: &[9],
    },
];

/// Every lesson some leaf names, once each, in order.
pub fn leaf_lessons() -> Vec<usize> {
    let mut v: Vec<usize> = LEAVES
        .iter()
        .flat_map(|l| l.lessons.iter().copied())
        .collect();
    v.sort_unstable();
    v.dedup();
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_answer_leads_somewhere_and_every_leaf_is_reached() {
        let mut reached = vec![false; LEAVES.len()];
        for q in &QUESTIONS {
            for (_, next) in q.answers {
                match next {
                    Next::Question(i) => assert!(*i < QUESTIONS.len()),
                    Next::Leaf(i) => reached[*i] = true,
                }
            }
        }
        assert!(reached.iter().all(|&r| r));
        assert_eq!(
            leaf_lessons(),
            crate::lessons::catalogue::lesson(10).unwrap().depends_on
        );
    }
}

//! The symbol table, after CPython's `Python/symtable.c`: one scope per module, class,
//! function, lambda and comprehension, the names each binds, declares and uses, and then the analysis
//! that makes every name local, global, free (from an enclosing function) or a cell (a local
//! some inner scope reads).

use std::collections::{BTreeSet, HashMap, HashSet};

use ruff_python_ast::{self as ast, Expr, Stmt};
use ruff_text_size::{Ranged, TextSize};

/// What a scope is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum ScopeKind {
    Module,
    Class,
    Function,
    Lambda,
    Comprehension,
}

/// How a code object reaches a name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Sym {
    /// A fast local (`LOAD_FAST`).
    Local,
    /// A local that an inner scope reads (`LOAD_DEREF` on its cell).
    Cell,
    /// A local of an enclosing function (`LOAD_DEREF` on the closure's cell).
    Free,
    /// Declared `global` here.
    GlobalExplicit,
    /// Not bound here nor in an enclosing function (`LOAD_GLOBAL`).
    GlobalImplicit,
}

/// One scope, analysed.
#[derive(Debug, Default)]
pub(super) struct ScopeInfo {
    pub(super) kind: Option<ScopeKind>,
    bound: BTreeSet<String>,
    used: BTreeSet<String>,
    globals: BTreeSet<String>,
    nonlocals: BTreeSet<String>,
    /// The function's parameters.
    params: BTreeSet<String>,
    /// Each `nonlocal` name with where its statement starts, for CPython's SyntaxErrors.
    nonlocal_at: Vec<(String, TextSize)>,
    children: Vec<TextSize>,
    /// Whether it yields (a generator function or a generator expression).
    pub(super) generator: bool,
    /// Whether it is an `async def` (a coroutine function).
    pub(super) coroutine: bool,
    /// Every name's binding, once analysed.
    pub(super) symbols: HashMap<String, Sym>,
}

impl ScopeInfo {
    /// How this scope reaches `name` (a name it never mentions is a global).
    pub(super) fn sym(&self, name: &str) -> Sym {
        self.symbols
            .get(name)
            .copied()
            .unwrap_or(Sym::GlobalImplicit)
    }

    /// Names of the cells, sorted as CPython's `dictbytype` sorts them.
    pub(super) fn cellvars(&self) -> Vec<String> {
        self.with(Sym::Cell)
    }

    /// Names of the free variables, sorted.
    pub(super) fn freevars(&self) -> Vec<String> {
        self.with(Sym::Free)
    }

    fn with(&self, s: Sym) -> Vec<String> {
        let mut v: Vec<String> = self
            .symbols
            .iter()
            .filter(|(_, k)| **k == s)
            .map(|(n, _)| n.clone())
            .collect();
        v.sort();
        v
    }

    /// Names declared global here and assigned here (their module slots are shared).
    pub(super) fn rebound_globals(&self) -> impl Iterator<Item = &String> {
        self.globals.iter().filter(|g| self.bound.contains(*g))
    }

    /// Names declared global here.
    pub(super) fn declared_globals(&self) -> impl Iterator<Item = &String> {
        self.globals.iter()
    }
}

/// Every scope of a file, by the offset where its node starts.
#[derive(Debug, Default)]
pub(super) struct SymbolTable {
    scopes: HashMap<TextSize, ScopeInfo>,
    /// The SyntaxErrors CPython's symtable raises, with where (a `nonlocal` with no binding).
    errors: Vec<(TextSize, String)>,
}

/// The module's scope key (no node starts before the file).
const MODULE: TextSize = TextSize::new(u32::MAX);

impl SymbolTable {
    /// Builds and analyses the table of a module's body.
    pub(super) fn build(body: &[Stmt]) -> Self {
        let mut b = Builder {
            table: SymbolTable::default(),
            stack: vec![MODULE],
        };
        b.table.scopes.insert(
            MODULE,
            ScopeInfo {
                kind: Some(ScopeKind::Module),
                ..ScopeInfo::default()
            },
        );
        for s in body {
            b.stmt(s);
        }
        let mut table = b.table;
        table.analyze(MODULE, &HashSet::new());
        table
    }

    /// The first SyntaxError of the file's scopes, in source order, with where it is.
    pub(super) fn first_error(&self) -> Option<&(TextSize, String)> {
        self.errors.iter().min_by_key(|(at, _)| *at)
    }

    /// Every name a `global` statement declares, in any scope of the file.
    pub(super) fn declared_globals(&self) -> HashSet<String> {
        self.scopes
            .values()
            .flat_map(|s| s.globals.iter().cloned())
            .collect()
    }

    /// The scope of the node starting at `at`.
    pub(super) fn scope(&self, at: TextSize) -> Option<&ScopeInfo> {
        self.scopes.get(&at)
    }

    /// `analyze_block`: resolves every name of `id` given the names `visible` from enclosing
    /// functions; returns the names it (or a scope inside it) needs from outside.
    fn analyze(&mut self, id: TextSize, visible: &HashSet<String>) -> BTreeSet<String> {
        let Some(s) = self.scopes.get_mut(&id) else {
            return BTreeSet::new();
        };
        let kind = s.kind.unwrap_or(ScopeKind::Module);
        let names: BTreeSet<String> = s.used.union(&s.bound).cloned().collect();
        for name in names {
            let sym = if s.globals.contains(&name) {
                Sym::GlobalExplicit
            } else if s.nonlocals.contains(&name) {
                Sym::Free
            } else if s.bound.contains(&name) {
                Sym::Local
            } else if kind != ScopeKind::Module && visible.contains(&name) {
                Sym::Free
            } else {
                Sym::GlobalImplicit
            };
            s.symbols.insert(name, sym);
        }
        for n in s.nonlocals.clone() {
            s.symbols.insert(n, Sym::Free);
        }
        // `nonlocal` names a variable of an enclosing function (a class's names do not count).
        let mut errors = Vec::new();
        for (n, at) in &s.nonlocal_at {
            if kind == ScopeKind::Module {
                errors.push((
                    *at,
                    "nonlocal declaration not allowed at module level".to_owned(),
                ));
            } else if !visible.contains(n) {
                errors.push((*at, format!("no binding for nonlocal '{n}' found")));
            }
        }
        let mut inner_visible = visible.clone();
        if kind == ScopeKind::Class {
            // A class's names are not visible in its methods; its `__class__` is.
            inner_visible.insert("__class__".to_owned());
        } else if kind != ScopeKind::Module {
            for (n, k) in &s.symbols {
                match k {
                    Sym::Local | Sym::Free => {
                        inner_visible.insert(n.clone());
                    }
                    _ => {
                        inner_visible.remove(n);
                    }
                }
            }
        }
        let children = s.children.clone();
        self.errors.extend(errors);
        let mut needed_by_children = BTreeSet::new();
        for c in children {
            needed_by_children.extend(self.analyze(c, &inner_visible));
        }
        let Some(s) = self.scopes.get_mut(&id) else {
            return BTreeSet::new();
        };
        for n in needed_by_children {
            if kind == ScopeKind::Class && n == "__class__" {
                // `drop_class_free`: the class makes the cell its methods' `super()` reads.
                s.symbols.insert(n, Sym::Cell);
                continue;
            }
            match s.symbols.get(&n).copied() {
                Some(Sym::Local) => {
                    s.symbols.insert(n, Sym::Cell);
                }
                Some(Sym::Cell | Sym::Free) => {}
                // A name only an inner scope mentions passes through this one.
                _ if kind != ScopeKind::Module => {
                    s.symbols.insert(n, Sym::Free);
                }
                _ => {}
            }
        }
        s.symbols
            .iter()
            .filter(|(_, k)| **k == Sym::Free)
            .map(|(n, _)| n.clone())
            .collect()
    }
}

struct Builder {
    table: SymbolTable,
    stack: Vec<TextSize>,
}

impl Builder {
    fn cur(&mut self) -> &mut ScopeInfo {
        let id = *self.stack.last().unwrap_or(&MODULE);
        self.table.scopes.entry(id).or_default()
    }

    fn bind(&mut self, name: &str) {
        self.cur().bound.insert(name.to_owned());
    }

    fn use_name(&mut self, name: &str) {
        self.cur().used.insert(name.to_owned());
    }

    fn enter(&mut self, at: TextSize, kind: ScopeKind) {
        self.cur().children.push(at);
        self.table.scopes.insert(
            at,
            ScopeInfo {
                kind: Some(kind),
                ..ScopeInfo::default()
            },
        );
        self.stack.push(at);
    }

    fn leave(&mut self) {
        self.stack.pop();
    }

    fn params(&mut self, p: &ast::Parameters) {
        for a in p.posonlyargs.iter().chain(&p.args).chain(&p.kwonlyargs) {
            self.bind(a.parameter.name.id.as_str());
            self.cur().params.insert(a.parameter.name.id.to_string());
        }
        for v in p.vararg.iter().chain(&p.kwarg) {
            self.bind(v.name.id.as_str());
            self.cur().params.insert(v.name.id.to_string());
        }
    }

    /// CPython's SyntaxError for a `global` or `nonlocal` (`which`) declaration of `name` at
    /// `at` that comes after the name was already a parameter, used or assigned in the scope.
    fn declared_late(&mut self, name: &str, which: &str, at: TextSize) {
        let s = self.cur();
        let message = if s.params.contains(name) {
            format!("name '{name}' is parameter and {which}")
        } else if s.used.contains(name) {
            format!("name '{name}' is used prior to {which} declaration")
        } else if s.bound.contains(name) {
            format!("name '{name}' is assigned to before {which} declaration")
        } else {
            return;
        };
        self.table.errors.push((at, message));
    }

    /// Defaults and annotations, evaluated in the enclosing scope.
    fn param_exprs(&mut self, p: &ast::Parameters) {
        for a in p.posonlyargs.iter().chain(&p.args).chain(&p.kwonlyargs) {
            if let Some(d) = &a.default {
                self.expr(d);
            }
            if let Some(ann) = &a.parameter.annotation {
                self.expr(ann);
            }
        }
        for v in p.vararg.iter().chain(&p.kwarg) {
            if let Some(ann) = &v.annotation {
                self.expr(ann);
            }
        }
    }

    fn stmts(&mut self, body: &[Stmt]) {
        for s in body {
            self.stmt(s);
        }
    }

    fn stmt(&mut self, s: &Stmt) {
        match s {
            Stmt::FunctionDef(f) => {
                for d in &f.decorator_list {
                    self.expr(&d.expression);
                }
                self.param_exprs(&f.parameters);
                if let Some(r) = &f.returns {
                    self.expr(r);
                }
                self.bind(f.name.id.as_str());
                self.enter(f.start(), ScopeKind::Function);
                self.cur().coroutine = f.is_async;
                self.params(&f.parameters);
                self.stmts(&f.body);
                self.leave();
            }
            Stmt::ClassDef(c) => {
                for d in &c.decorator_list {
                    self.expr(&d.expression);
                }
                if let Some(args) = &c.arguments {
                    for a in args.args.iter() {
                        self.expr(a);
                    }
                    for k in args.keywords.iter() {
                        self.expr(&k.value);
                    }
                }
                self.bind(c.name.id.as_str());
                self.enter(c.start(), ScopeKind::Class);
                self.stmts(&c.body);
                self.leave();
            }
            Stmt::Global(g) => {
                for n in &g.names {
                    self.declared_late(n.id.as_str(), "global", g.range.start());
                    self.cur().globals.insert(n.id.to_string());
                }
            }
            Stmt::Nonlocal(st) => {
                for n in &st.names {
                    self.declared_late(n.id.as_str(), "nonlocal", st.range.start());
                    self.cur().nonlocals.insert(n.id.to_string());
                    self.cur()
                        .nonlocal_at
                        .push((n.id.to_string(), st.range.start()));
                }
            }
            Stmt::Import(i) => {
                for a in &i.names {
                    let bound = match &a.asname {
                        Some(x) => x.id.to_string(),
                        None => a.name.id.split('.').next().unwrap_or_default().to_owned(),
                    };
                    self.bind(&bound);
                }
            }
            Stmt::ImportFrom(i) => {
                for a in i.names.iter().filter(|a| a.name.id.as_str() != "*") {
                    self.bind(a.asname.as_ref().unwrap_or(&a.name).id.as_str());
                }
            }
            _ => {
                // Every other statement: its expressions and nested blocks, in order.
                walk_stmt(self, s);
            }
        }
    }

    fn expr(&mut self, e: &Expr) {
        match e {
            Expr::Name(n) => match n.ctx {
                ast::ExprContext::Load => {
                    self.use_name(n.id.as_str());
                    // `super()` reads the class through the implicit `__class__` cell.
                    if n.id.as_str() == "super" && self.cur().kind == Some(ScopeKind::Function) {
                        self.use_name("__class__");
                    }
                }
                _ => self.bind(n.id.as_str()),
            },
            Expr::Lambda(l) => {
                if let Some(p) = &l.parameters {
                    self.param_exprs(p);
                }
                self.enter(l.start(), ScopeKind::Lambda);
                if let Some(p) = &l.parameters {
                    self.params(p);
                }
                self.expr(&l.body);
                self.leave();
            }
            Expr::Yield(_) | Expr::YieldFrom(_) => {
                self.cur().generator = true;
                walk_expr(self, e);
            }
            Expr::ListComp(c) => self.comprehension(e.start(), &c.generators, &[&c.elt]),
            Expr::SetComp(c) => self.comprehension(e.start(), &c.generators, &[&c.elt]),
            Expr::Generator(c) => {
                self.comprehension(e.start(), &c.generators, &[&c.elt]);
                if let Some(s) = self.table.scopes.get_mut(&e.start()) {
                    s.generator = true;
                }
            }
            Expr::DictComp(c) => {
                let mut elts: Vec<&Expr> = c.key.as_deref().into_iter().collect();
                elts.push(&c.value);
                self.comprehension(e.start(), &c.generators, &elts);
            }
            Expr::Named(n) => {
                // `:=` binds in the nearest enclosing scope that is not a comprehension.
                self.expr(&n.value);
                if let Expr::Name(t) = &*n.target {
                    let at = self
                        .stack
                        .iter()
                        .rev()
                        .find(|id| {
                            self.table.scopes.get(id).and_then(|s| s.kind)
                                != Some(ScopeKind::Comprehension)
                        })
                        .copied()
                        .unwrap_or(MODULE);
                    if let Some(s) = self.table.scopes.get_mut(&at) {
                        s.bound.insert(t.id.to_string());
                    }
                    if at != *self.stack.last().unwrap_or(&MODULE) {
                        self.cur().nonlocals.insert(t.id.to_string());
                    }
                }
            }
            _ => walk_expr(self, e),
        }
    }

    /// A comprehension: its first iterable is evaluated outside, the rest in its own scope.
    fn comprehension(&mut self, at: TextSize, gens: &[ast::Comprehension], elts: &[&Expr]) {
        let Some(first) = gens.first() else { return };
        self.expr(&first.iter);
        self.enter(at, ScopeKind::Comprehension);
        self.bind(".0");
        for (k, g) in gens.iter().enumerate() {
            if k > 0 {
                self.expr(&g.iter);
            }
            self.expr(&g.target);
            for cond in &g.ifs {
                self.expr(cond);
            }
        }
        for e in elts {
            self.expr(e);
        }
        self.leave();
    }
}

/// Visits the expressions and blocks of a statement the builder has no rule of its own for.
fn walk_stmt(b: &mut Builder, s: &Stmt) {
    use ruff_python_ast::visitor::source_order::{SourceOrderVisitor, walk_stmt as walk};
    struct V<'a>(&'a mut Builder);
    impl<'x> SourceOrderVisitor<'x> for V<'_> {
        fn visit_stmt(&mut self, s: &'x Stmt) {
            self.0.stmt(s);
        }
        fn visit_expr(&mut self, e: &'x Expr) {
            self.0.expr(e);
        }
        fn visit_except_handler(&mut self, h: &'x ast::ExceptHandler) {
            let ast::ExceptHandler::ExceptHandler(h) = h;
            if let Some(t) = &h.type_ {
                self.0.expr(t);
            }
            if let Some(n) = &h.name {
                self.0.bind(n.id.as_str());
            }
            self.0.stmts(&h.body);
        }
    }
    walk(&mut V(b), s);
}

/// Visits the sub-expressions of an expression the builder has no rule of its own for.
fn walk_expr(b: &mut Builder, e: &Expr) {
    use ruff_python_ast::visitor::source_order::{SourceOrderVisitor, walk_expr as walk};
    struct V<'a>(&'a mut Builder);
    impl<'x> SourceOrderVisitor<'x> for V<'_> {
        fn visit_expr(&mut self, e: &'x Expr) {
            self.0.expr(e);
        }
    }
    walk(&mut V(b), e);
}

pub(super) fn targets(e: &Expr, out: &mut BTreeSet<String>) {
    match e {
        Expr::Name(n) => {
            out.insert(n.id.to_string());
        }
        Expr::Tuple(t) => t.elts.iter().for_each(|x| targets(x, out)),
        Expr::List(l) => l.elts.iter().for_each(|x| targets(x, out)),
        Expr::Starred(s) => targets(&s.value, out),
        _ => {}
    }
}

/// The module namespace: a slot per name bound at top level or declared global anywhere, and
/// which of them some function rebinds. A sibling module's names share it under the prefix
/// `module.` (no Python name has a dot), so each file keeps its own globals.
#[derive(Default)]
pub(super) struct ModuleSlots {
    pub(super) names: Vec<String>,
    pub(super) rebound: HashSet<String>,
    /// `""` while the program's own file compiles, `"name."` while sibling `name` does.
    pub(super) prefix: String,
}

impl ModuleSlots {
    /// The slot of the current file's global `name`, made if new.
    pub(super) fn add(&mut self, name: &str) -> u32 {
        let full = format!("{}{name}", self.prefix);
        match self.names.iter().position(|n| *n == full) {
            Some(p) => p as u32,
            None => {
                self.names.push(full);
                (self.names.len() - 1) as u32
            }
        }
    }

    /// Marks the current file's global `name` as rebound by some function.
    pub(super) fn mark_rebound(&mut self, name: &str) {
        let full = format!("{}{name}", self.prefix);
        self.rebound.insert(full);
    }
}

#[cfg(test)]
mod tests {
    use super::super::{CompileErrorKind, compile};

    /// Compiles `src` and returns its SyntaxError's line and message.
    fn syntax_error(src: &str) -> (u32, String) {
        match compile(src, "t.py") {
            Err(e) if e.kind == CompileErrorKind::Syntax => (e.line, e.message),
            Err(e) => panic!("not a SyntaxError: {e:?}"),
            Ok(_) => panic!("compiled: {src}"),
        }
    }

    #[test]
    fn declarations_python3_refuses_are_syntax_errors() {
        // What fuzzing found: a nonlocal with no binding compiled, and the VM then read a cell
        // slot the frame did not have (fuzz/regressions/run/).
        let found = include_str!("../../../../fuzz/regressions/run/nonlocal-without-binding.py");
        assert_eq!(
            syntax_error(found),
            (11, "no binding for nonlocal 'count' found".to_owned())
        );
        for (src, line, message) in [
            (
                "x = 1\nnonlocal y\n",
                2,
                "nonlocal declaration not allowed at module level",
            ),
            (
                "class C:\n    w = 1\n    def m(self):\n        nonlocal w\n",
                4,
                "no binding for nonlocal 'w' found",
            ),
            (
                "def f(a):\n    global a\n",
                2,
                "name 'a' is parameter and global",
            ),
            (
                "def f():\n    print(x)\n    global x\n",
                3,
                "name 'x' is used prior to global declaration",
            ),
            (
                "def f():\n    x = 1\n    global x\n",
                3,
                "name 'x' is assigned to before global declaration",
            ),
        ] {
            assert_eq!(syntax_error(src), (line, message.to_owned()), "{src}");
        }
        // A nonlocal that has its binding compiles.
        assert!(compile("def f():\n    n = 0\n    def g():\n        nonlocal n\n        n += 1\n    return g\n", "t.py").is_ok());
    }
}

//! Parser: tokens to syntax tree, by precedence climbing over the FHIRPath N1 operator table
//! (tightest first): `.` `[]`, unary `+ -`, `* / div mod`, `+ - &`, `is as`, `|`,
//! `< > <= >=`, `= ~ != !~`, `in contains`, `and`, `xor or`, `implies`.

use super::ParseError;
use super::ast::{Ast, BinOp, Call, Func, TypeOp, TypeSpec};
use super::decimal::Decimal;
use super::lexer::{Tok, Token, tokenize};
use super::temporal::Temporal;
use super::value::{Item, Str};

/// Deepest nesting of parentheses, indexers, function arguments and signs: each level is a
/// few frames of recursion here and in evaluation, and a few thousand levels overflowed the
/// stack.
pub(crate) const MAX_NESTING: usize = 64;
/// Most operators and invocations one expression may chain (`a.b.c`, `x or y or z`): each link
/// is one level of the tree evaluation recurses through. Far above the longest invariant of the
/// packages.
pub(crate) const MAX_LINKS: usize = 4096;

pub(crate) fn parse(src: &str) -> Result<Ast, ParseError> {
    let mut p = Parser {
        toks: tokenize(src)?,
        i: 0,
        depth: 0,
        links: 0,
    };
    let ast = p.expr(0)?;
    match &p.peek().tok {
        Tok::Eof => Ok(ast),
        t => Err(p.err(format!("unexpected {t:?} after the end of the expression"))),
    }
}

/// Units a number may carry without quotes: `4 days`.
const CALENDAR_UNITS: &[&str] = &[
    "year",
    "years",
    "month",
    "months",
    "week",
    "weeks",
    "day",
    "days",
    "hour",
    "hours",
    "minute",
    "minutes",
    "second",
    "seconds",
    "millisecond",
    "milliseconds",
];

enum Infix {
    Bin(BinOp),
    Type(TypeOp),
}

struct Parser {
    toks: Vec<Token>,
    i: usize,
    /// Current nesting (see [`MAX_NESTING`]).
    depth: usize,
    /// Links chained so far (see [`MAX_LINKS`]).
    links: usize,
}

impl Parser {
    fn peek(&self) -> &Token {
        // tokenize always ends with Eof, and nothing advances past it.
        &self.toks[self.i.min(self.toks.len() - 1)]
    }

    fn peek_at(&self, k: usize) -> &Tok {
        &self.toks[(self.i + k).min(self.toks.len() - 1)].tok
    }

    fn next(&mut self) -> Tok {
        let t = self.peek().tok.clone();
        if t != Tok::Eof {
            self.i += 1;
        }
        t
    }

    fn err(&self, message: impl Into<String>) -> ParseError {
        ParseError {
            position: self.peek().pos,
            message: message.into(),
        }
    }

    /// Runs `f` one nesting level deeper, refusing past [`MAX_NESTING`].
    fn nested<T>(
        &mut self,
        f: impl FnOnce(&mut Self) -> Result<T, ParseError>,
    ) -> Result<T, ParseError> {
        if self.depth >= MAX_NESTING {
            return Err(self.err(format!(
                "the expression is nested deeper than {MAX_NESTING} levels"
            )));
        }
        self.depth += 1;
        let result = f(self);
        self.depth -= 1;
        result
    }

    /// Counts one more link, refusing past [`MAX_LINKS`].
    fn link(&mut self) -> Result<(), ParseError> {
        self.links += 1;
        if self.links > MAX_LINKS {
            return Err(self.err(format!(
                "the expression chains more than {MAX_LINKS} operators and invocations"
            )));
        }
        Ok(())
    }

    fn expect(&mut self, t: &Tok, what: &str) -> Result<(), ParseError> {
        if &self.peek().tok == t {
            self.next();
            Ok(())
        } else {
            Err(self.err(format!("expected {what}, found {:?}", self.peek().tok)))
        }
    }

    fn infix(&self) -> Option<(Infix, u8)> {
        use BinOp as B;
        let op = match &self.peek().tok {
            Tok::Star => (Infix::Bin(B::Mul), 10),
            Tok::Slash => (Infix::Bin(B::Div), 10),
            Tok::Plus => (Infix::Bin(B::Add), 9),
            Tok::Minus => (Infix::Bin(B::Sub), 9),
            Tok::Amp => (Infix::Bin(B::Concat), 9),
            Tok::Pipe => (Infix::Bin(B::Union), 7),
            Tok::Lt => (Infix::Bin(B::Lt), 6),
            Tok::Gt => (Infix::Bin(B::Gt), 6),
            Tok::Le => (Infix::Bin(B::Le), 6),
            Tok::Ge => (Infix::Bin(B::Ge), 6),
            Tok::Eq => (Infix::Bin(B::Eq), 5),
            Tok::Tilde => (Infix::Bin(B::Equiv), 5),
            Tok::Ne => (Infix::Bin(B::Ne), 5),
            Tok::NotTilde => (Infix::Bin(B::NotEquiv), 5),
            Tok::Ident(k) => match k.as_str() {
                "div" => (Infix::Bin(B::IntDiv), 10),
                "mod" => (Infix::Bin(B::Mod), 10),
                "is" => (Infix::Type(TypeOp::Is), 8),
                "as" => (Infix::Type(TypeOp::As), 8),
                "in" => (Infix::Bin(B::In), 4),
                "contains" => (Infix::Bin(B::Contains), 4),
                "and" => (Infix::Bin(B::And), 3),
                "or" => (Infix::Bin(B::Or), 2),
                "xor" => (Infix::Bin(B::Xor), 2),
                "implies" => (Infix::Bin(B::Implies), 1),
                _ => return None,
            },
            _ => return None,
        };
        Some(op)
    }

    fn expr(&mut self, min_prec: u8) -> Result<Ast, ParseError> {
        let mut lhs = self.unary()?;
        while let Some((op, prec)) = self.infix() {
            if prec < min_prec {
                break;
            }
            self.link()?;
            self.next();
            lhs = match op {
                Infix::Type(t) => Ast::TypeOp(t, Box::new(lhs), self.type_spec()?),
                Infix::Bin(b) => {
                    let rhs = self.expr(prec + 1)?;
                    Ast::Binary(b, Box::new(lhs), Box::new(rhs))
                }
            };
        }
        Ok(lhs)
    }

    fn unary(&mut self) -> Result<Ast, ParseError> {
        match self.peek().tok {
            Tok::Plus => {
                self.next();
                self.nested(Self::unary)
            }
            Tok::Minus => {
                self.next();
                let inner = self.nested(Self::unary)?;
                Ok(match inner {
                    Ast::Literal(Item::Integer(i)) => Ast::Literal(Item::Integer(-i)),
                    Ast::Literal(Item::Decimal(d)) => Ast::Literal(Item::Decimal(d.neg())),
                    Ast::Literal(Item::Quantity(d, u)) => Ast::Literal(Item::Quantity(d.neg(), u)),
                    other => Ast::Negate(Box::new(other)),
                })
            }
            _ => self.postfix(),
        }
    }

    fn postfix(&mut self) -> Result<Ast, ParseError> {
        let mut e = self.term()?;
        loop {
            match self.peek().tok {
                Tok::Dot => {
                    self.link()?;
                    self.next();
                    e = self.invocation(Some(e))?;
                }
                Tok::LBracket => {
                    self.link()?;
                    self.next();
                    let idx = self.nested(|p| p.expr(0))?;
                    self.expect(&Tok::RBracket, "']'")?;
                    e = Ast::Indexer(Box::new(e), Box::new(idx));
                }
                _ => return Ok(e),
            }
        }
    }

    /// A member name or function call, on `target` or (when `None`) on the focus.
    fn invocation(&mut self, target: Option<Ast>) -> Result<Ast, ParseError> {
        let pos = self.peek().pos;
        match self.next() {
            Tok::Ident(name) if self.peek().tok == Tok::LParen => {
                self.next();
                let call = self.call(name, pos)?;
                Ok(Ast::Invoke(target.map(Box::new), Box::new(call)))
            }
            Tok::Ident(name) | Tok::Delimited(name) => Ok(match target {
                Some(t) => Ast::Member(Box::new(t), name.into()),
                None => Ast::Ident(name.into()),
            }),
            t => Err(ParseError {
                position: pos,
                message: format!("expected a name after '.', found {t:?}"),
            }),
        }
    }

    fn call(&mut self, name: String, pos: usize) -> Result<Call, ParseError> {
        let func = Func::from_name(&name);
        let takes_type = matches!(func, Func::Is | Func::As | Func::OfType);
        let mut args = Vec::new();
        if self.peek().tok != Tok::RParen {
            loop {
                args.push(if takes_type {
                    Ast::TypeName(self.type_spec()?)
                } else {
                    self.nested(|p| p.expr(0))?
                });
                if self.peek().tok == Tok::Comma {
                    self.next();
                } else {
                    break;
                }
            }
        }
        self.expect(&Tok::RParen, "')' or ','")?;
        let (min, max) = func.arity();
        if args.len() < min || args.len() > max {
            return Err(ParseError {
                position: pos,
                message: format!("{name}() takes {min}..={max} arguments, got {}", args.len()),
            });
        }
        let regex = match (func, args.first()) {
            (Func::Matches | Func::ReplaceMatches, Some(Ast::Literal(Item::String(p)))) => {
                Some(super::strings::compile_regex(p))
            }
            (Func::MatchesFull, Some(Ast::Literal(Item::String(p)))) => {
                Some(super::strings::compile_full_regex(p))
            }
            _ => None,
        };
        Ok(Call {
            func,
            name: name.into(),
            args,
            regex,
        })
    }

    fn type_spec(&mut self) -> Result<TypeSpec, ParseError> {
        let first = match self.next() {
            Tok::Ident(n) | Tok::Delimited(n) => n,
            t => return Err(self.err(format!("expected a type name, found {t:?}"))),
        };
        if self.peek().tok == Tok::Dot
            && matches!(self.peek_at(1), Tok::Ident(_) | Tok::Delimited(_))
        {
            self.next();
            if let Tok::Ident(n) | Tok::Delimited(n) = self.next() {
                return Ok(TypeSpec {
                    namespace: Some(first.into()),
                    name: n.into(),
                });
            }
        }
        Ok(TypeSpec {
            namespace: None,
            name: first.into(),
        })
    }

    fn term(&mut self) -> Result<Ast, ParseError> {
        let pos = self.peek().pos;
        let bad = |m: String| ParseError {
            position: pos,
            message: m,
        };
        let lit = |i: Item<'static>| Ok(Ast::Literal(i));
        match self.peek().tok.clone() {
            Tok::Number(n) => {
                self.next();
                let num = if n.contains('.') {
                    Item::Decimal(Decimal::parse(&n).ok_or_else(|| bad(format!("bad number {n}")))?)
                } else {
                    match n.parse::<i64>() {
                        Ok(i) => Item::Integer(i),
                        Err(_) => Item::Decimal(
                            Decimal::parse(&n).ok_or_else(|| bad(format!("bad number {n}")))?,
                        ),
                    }
                };
                let value = match &num {
                    Item::Integer(i) => Decimal::from_i64(*i),
                    Item::Decimal(d) => *d,
                    _ => Decimal::default(),
                };
                match self.peek().tok.clone() {
                    Tok::Str(unit) => {
                        self.next();
                        lit(Item::Quantity(value, Str::from(unit)))
                    }
                    Tok::Ident(u) if CALENDAR_UNITS.contains(&u.as_str()) => {
                        self.next();
                        let unit = u.strip_suffix('s').unwrap_or(&u).to_string();
                        lit(Item::Quantity(value, Str::from(unit)))
                    }
                    _ => lit(num),
                }
            }
            Tok::Str(s) => {
                self.next();
                lit(Item::String(Str::from(s)))
            }
            Tok::Date(s) => {
                self.next();
                let t = Temporal::parse_date(&s).ok_or_else(|| bad(format!("bad date @{s}")))?;
                lit(Item::Temporal(t))
            }
            Tok::DateTime(s) => {
                self.next();
                let t = Temporal::parse_datetime(&s)
                    .ok_or_else(|| bad(format!("bad date-time @{s}")))?;
                lit(Item::Temporal(t))
            }
            Tok::Time(s) => {
                self.next();
                let t = Temporal::parse_time(&s).ok_or_else(|| bad(format!("bad time @T{s}")))?;
                lit(Item::Temporal(t))
            }
            Tok::LParen => {
                self.next();
                let e = self.nested(|p| p.expr(0))?;
                self.expect(&Tok::RParen, "')'")?;
                Ok(e)
            }
            Tok::LBrace => {
                self.next();
                self.expect(&Tok::RBrace, "'}'")?;
                Ok(Ast::Empty)
            }
            Tok::This => {
                self.next();
                Ok(Ast::This)
            }
            Tok::Index => {
                self.next();
                Ok(Ast::Index)
            }
            Tok::Total => {
                self.next();
                Ok(Ast::Total)
            }
            Tok::Var(v) => {
                self.next();
                Ok(Ast::Var(v.into()))
            }
            Tok::Ident(k) if (k == "true" || k == "false") && self.peek_at(1) != &Tok::LParen => {
                self.next();
                lit(Item::Boolean(k == "true"))
            }
            Tok::Ident(_) | Tok::Delimited(_) => self.invocation(None),
            t => Err(bad(format!("unexpected {t:?}"))),
        }
    }
}

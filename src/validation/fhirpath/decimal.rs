//! A small exact decimal for FHIRPath `Decimal`: binary floats would make `0.1 + 0.2 = 0.3`
//! false and lose the precision that equivalence (`~`) and `round()` depend on.

use std::cmp::Ordering;
use std::fmt;

/// Beyond this many fraction digits results are rounded (FHIRPath asks for at least 8).
const MAX_SCALE: u32 = 28;
/// Fraction digits kept by division before trailing zeros are dropped.
const DIV_SCALE: u32 = 16;

/// `mant / 10^scale`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Decimal {
    mant: i128,
    scale: u32,
}

fn pow10(n: u32) -> Option<i128> {
    10i128.checked_pow(n)
}

/// Integer division rounding half away from zero.
fn div_round(n: i128, d: i128) -> i128 {
    let q = n / d;
    let r = n % d;
    if r.unsigned_abs() * 2 >= d.unsigned_abs() {
        if (n < 0) != (d < 0) { q - 1 } else { q + 1 }
    } else {
        q
    }
}

impl Decimal {
    pub fn from_i64(i: i64) -> Decimal {
        Decimal {
            mant: i128::from(i),
            scale: 0,
        }
    }

    /// Number of digits after the decimal point, as written.
    pub fn scale(&self) -> u32 {
        self.scale
    }

    /// Parses `[+-]digits[.digits][e[+-]digits]`.
    pub fn parse(s: &str) -> Option<Decimal> {
        let (neg, body) = match s.as_bytes().first()? {
            b'-' => (true, &s[1..]),
            b'+' => (false, &s[1..]),
            _ => (false, s),
        };
        let (num, exp) = match body.find(['e', 'E']) {
            Some(i) => (&body[..i], body[i + 1..].parse::<i32>().ok()?),
            None => (body, 0),
        };
        let (int, frac) = match num.split_once('.') {
            Some((i, f)) => (i, f),
            None => (num, ""),
        };
        if int.is_empty() && frac.is_empty() {
            return None;
        }
        let mut mant: i128 = 0;
        let mut scale: u32 = 0;
        for (i, c) in int.bytes().chain(frac.bytes()).enumerate() {
            if !c.is_ascii_digit() {
                return None;
            }
            if i >= int.len() {
                if scale >= MAX_SCALE {
                    continue;
                }
                scale += 1;
            }
            mant = mant.checked_mul(10)?.checked_add(i128::from(c - b'0'))?;
        }
        if exp > 0 {
            let e = u32::try_from(exp).ok()?;
            if e <= scale {
                scale -= e;
            } else {
                mant = mant.checked_mul(pow10(e - scale)?)?;
                scale = 0;
            }
        } else if exp < 0 {
            scale = scale.checked_add(exp.unsigned_abs())?;
        }
        let d = Decimal {
            mant: if neg { -mant } else { mant },
            scale,
        };
        Some(d.limit())
    }

    pub fn from_f64(f: f64) -> Option<Decimal> {
        if !f.is_finite() {
            return None;
        }
        Decimal::parse(&f.to_string())
    }

    pub fn to_f64(&self) -> f64 {
        self.mant as f64 / 10f64.powi(self.scale as i32)
    }

    /// The value as an integer when it has no fraction.
    pub fn to_i64(&self) -> Option<i64> {
        let p = pow10(self.scale)?;
        if self.mant % p != 0 {
            return None;
        }
        i64::try_from(self.mant / p).ok()
    }

    pub fn is_zero(&self) -> bool {
        self.mant == 0
    }

    fn limit(self) -> Decimal {
        if self.scale <= MAX_SCALE {
            return self;
        }
        self.round(MAX_SCALE)
    }

    fn rescaled(&self, scale: u32) -> Option<i128> {
        if scale >= self.scale {
            self.mant.checked_mul(pow10(scale - self.scale)?)
        } else {
            Some(div_round(self.mant, pow10(self.scale - scale)?))
        }
    }

    /// The same value written with `scale` fraction digits (rounded half away from zero when
    /// that drops digits); `None` past the digits this type holds.
    pub fn with_scale(&self, scale: u32) -> Option<Decimal> {
        if scale > MAX_SCALE {
            return None;
        }
        Some(Decimal {
            mant: self.rescaled(scale)?,
            scale,
        })
    }

    /// Rounds toward negative (`floor`) or positive infinity to `digits` fraction digits, and
    /// writes the result with exactly that many.
    pub fn round_toward(&self, digits: u32, up: bool) -> Option<Decimal> {
        if digits >= self.scale {
            return self.with_scale(digits);
        }
        let p = pow10(self.scale - digits)?;
        let q = self.mant.div_euclid(p);
        let exact = self.mant.rem_euclid(p) == 0;
        Some(Decimal {
            mant: if up && !exact { q + 1 } else { q },
            scale: digits,
        })
    }

    /// Drops trailing fraction zeros.
    pub fn normalized(mut self) -> Decimal {
        while self.scale > 0 && self.mant % 10 == 0 {
            self.mant /= 10;
            self.scale -= 1;
        }
        self
    }

    pub fn cmp_value(&self, other: &Decimal) -> Ordering {
        let s = self.scale.max(other.scale);
        match (self.rescaled(s), other.rescaled(s)) {
            (Some(a), Some(b)) => a.cmp(&b),
            _ => self
                .to_f64()
                .partial_cmp(&other.to_f64())
                .unwrap_or(Ordering::Equal),
        }
    }

    pub fn add(&self, other: &Decimal) -> Option<Decimal> {
        let s = self.scale.max(other.scale);
        Some(Decimal {
            mant: self.rescaled(s)?.checked_add(other.rescaled(s)?)?,
            scale: s,
        })
    }

    pub fn neg(&self) -> Decimal {
        Decimal {
            mant: -self.mant,
            scale: self.scale,
        }
    }

    pub fn sub(&self, other: &Decimal) -> Option<Decimal> {
        self.add(&other.neg())
    }

    pub fn mul(&self, other: &Decimal) -> Option<Decimal> {
        let mut a = *self;
        let mut b = *other;
        // Trailing zeros only cost headroom in the product.
        if a.mant.checked_mul(b.mant).is_none() {
            a = a.normalized();
            b = b.normalized();
        }
        Some(
            Decimal {
                mant: a.mant.checked_mul(b.mant)?,
                scale: a.scale + b.scale,
            }
            .limit(),
        )
    }

    /// `None` on division by zero or overflow.
    pub fn div(&self, other: &Decimal) -> Option<Decimal> {
        if other.mant == 0 {
            return None;
        }
        let a = self.normalized();
        let b = other.normalized();
        // a/10^sa ÷ b/10^sb = (a·10^(sb+S−sa) ÷ b) / 10^S
        let shift = i64::from(b.scale) + i64::from(DIV_SCALE) - i64::from(a.scale);
        let num = if shift >= 0 {
            a.mant.checked_mul(pow10(u32::try_from(shift).ok()?)?)?
        } else {
            div_round(a.mant, pow10(u32::try_from(-shift).ok()?)?)
        };
        Some(
            Decimal {
                mant: div_round(num, b.mant),
                scale: DIV_SCALE,
            }
            .normalized(),
        )
    }

    /// Truncating integer division (`div`) and its remainder (`mod`).
    pub fn div_trunc(&self, other: &Decimal) -> Option<i128> {
        if other.mant == 0 {
            return None;
        }
        let s = self.scale.max(other.scale);
        Some(self.rescaled(s)? / other.rescaled(s)?)
    }

    pub fn rem(&self, other: &Decimal) -> Option<Decimal> {
        if other.mant == 0 {
            return None;
        }
        let s = self.scale.max(other.scale);
        Some(Decimal {
            mant: self.rescaled(s)? % other.rescaled(s)?,
            scale: s,
        })
    }

    pub fn abs(&self) -> Decimal {
        Decimal {
            mant: self.mant.abs(),
            scale: self.scale,
        }
    }

    /// Rounds half away from zero to `digits` fraction digits.
    pub fn round(&self, digits: u32) -> Decimal {
        if digits >= self.scale {
            return *self;
        }
        match pow10(self.scale - digits) {
            Some(p) => Decimal {
                mant: div_round(self.mant, p),
                scale: digits,
            },
            None => Decimal::default(),
        }
    }

    pub fn truncate(&self) -> Decimal {
        match pow10(self.scale) {
            Some(p) => Decimal {
                mant: self.mant / p,
                scale: 0,
            },
            None => Decimal::default(),
        }
    }

    pub fn floor(&self) -> Decimal {
        let t = self.truncate();
        if self.mant < 0 && t.cmp_value(self) != Ordering::Equal {
            Decimal {
                mant: t.mant - 1,
                scale: 0,
            }
        } else {
            t
        }
    }

    pub fn ceiling(&self) -> Decimal {
        let t = self.truncate();
        if self.mant > 0 && t.cmp_value(self) != Ordering::Equal {
            Decimal {
                mant: t.mant + 1,
                scale: 0,
            }
        } else {
            t
        }
    }

    /// The integer part when it fits an i64 (for `toInteger`-like conversions).
    pub fn trunc_i64(&self) -> Option<i64> {
        i64::try_from(self.truncate().mant).ok()
    }
}

impl PartialEq for Decimal {
    fn eq(&self, other: &Decimal) -> bool {
        self.cmp_value(other) == Ordering::Equal
    }
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = self.mant.unsigned_abs().to_string();
        let sign = if self.mant < 0 { "-" } else { "" };
        let scale = self.scale as usize;
        if scale == 0 {
            return write!(f, "{sign}{digits}");
        }
        if digits.len() > scale {
            let (i, fr) = digits.split_at(digits.len() - scale);
            write!(f, "{sign}{i}.{fr}")
        } else {
            write!(f, "{sign}0.{}{digits}", "0".repeat(scale - digits.len()))
        }
    }
}

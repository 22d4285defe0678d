//! Token embedding lookup.

use crate::float::Float;

/// `out[t] = table[tokens[t]]`; `tokens` must be `< vocab` (checked by the caller).
pub fn forward<T: Float>(out: &mut [T], table: &[T], tokens: &[u32], c: usize) {
    for (row, &tok) in out.chunks_mut(c).zip(tokens) {
        let t = tok as usize;
        row.copy_from_slice(&table[t * c..(t + 1) * c]);
    }
}

/// `dtable[tokens[t]] += dout[t]`, sequential so repeated tokens sum in a fixed order.
pub fn backward<T: Float>(dtable: &mut [T], dout: &[T], tokens: &[u32], c: usize) {
    for (row, &tok) in dout.chunks(c).zip(tokens) {
        let t = tok as usize;
        for (d, &g) in dtable[t * c..(t + 1) * c].iter_mut().zip(row) {
            *d += g;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::gradcheck::{check, dot, rand_vec};
    use crate::rng::Rng;

    #[test]
    fn gradcheck_with_repeated_tokens() {
        let mut r = Rng::new(5);
        let (v, c) = (6, 3);
        let tokens = [1u32, 4, 1, 0, 5];
        let table = rand_vec(&mut r, v * c, 1.0);
        let proj = rand_vec(&mut r, tokens.len() * c, 1.0);
        let mut dt = vec![0.0; v * c];
        backward(&mut dt, &proj, &tokens, c);
        check("embedding", &table, &dt, |t| {
            let mut o = vec![0.0; tokens.len() * c];
            forward(&mut o, t, &tokens, c);
            dot(&o, &proj)
        });
    }
}

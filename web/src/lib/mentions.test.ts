import { describe, expect, it } from 'vitest';
import { filterCandidates, insertMention, mentionQuery, mentionsInText } from './mentions';

describe('mention autocomplete', () => {
  it('finds the query before the caret', () => {
    expect(mentionQuery('hi @an', 6)).toEqual({ query: 'an', start: 3 });
    expect(mentionQuery('@', 1)).toEqual({ query: '', start: 0 });
    expect(mentionQuery('mail a@b', 8)).toBeNull();
    expect(mentionQuery('hi @ann lee', 11)).toBeNull();
  });

  it('ranks prefix matches first', () => {
    const people = [
      { userId: '1', name: 'Joanna' },
      { userId: '2', name: 'Ann Lee' },
      { userId: '3', name: 'Lee Ann' },
      { userId: '4', name: 'Bob' },
    ];
    expect(filterCandidates(people, 'ann').map((c) => c.userId)).toEqual(['2', '3', '1']);
    expect(filterCandidates(people, '').map((c) => c.userId)).toHaveLength(4);
  });

  it('inserts the name and keeps only mentions still present', () => {
    expect(insertMention('hi @an!', 3, 6, 'Ann Lee')).toEqual({ text: 'hi @Ann Lee !', caret: 12 });
    const chosen = new Map([
      ['2', 'Ann Lee'],
      ['4', 'Bob'],
    ]);
    expect(mentionsInText('hi @Ann Lee', chosen)).toEqual(['2']);
  });
});

//! Display names and avatars: the app gives them (a `resolveUser` function, or a `people` attribute of JSON),
//! the elements show them, and the user id stands in for anyone the app does not name.

/** How the app names a user. */
export interface Person {
  /** The display name. */
  name: string;
  /** An image URL, shown beside the name. */
  avatar?: string;
}

/** Names a user: at once, later (a promise), or not at all (`undefined`: the user id is shown). */
export type PersonResolver = (userId: string) => Person | undefined | Promise<Person | undefined>;

/**
 * The people an element shows: from its `people` attribute (`{"u-17": {"name": "Ann", "avatar": "/a.png"}}`)
 * first, then its resolver; each user asked once, `onChange` called when a late answer arrives.
 */
export class People {
  #known = new Map<string, Person | null>();
  #resolver: PersonResolver | undefined;
  #attribute: Record<string, Person> = {};

  constructor(private readonly onChange: () => void) {}

  get resolver(): PersonResolver | undefined {
    return this.#resolver;
  }
  set resolver(resolver: PersonResolver | undefined) {
    this.#resolver = resolver;
    this.#reset();
  }

  /** The `people` attribute's JSON (ignored when it is not an object). */
  set attribute(json: string | null) {
    try {
      const value: unknown = JSON.parse(json ?? "{}");
      this.#attribute = typeof value === "object" && value !== null ? (value as Record<string, Person>) : {};
    } catch {
      this.#attribute = {};
    }
    this.#reset();
  }

  /** The person as known now: the user id as the name until (unless) the app names them. */
  get(userId: string): Person {
    const fixed = this.#attribute[userId];
    if (fixed?.name) return fixed;
    const resolver = this.#resolver;
    if (resolver && !this.#known.has(userId)) {
      this.#known.set(userId, null);
      // Asked once; the answer (at once or later) shows from the next render on.
      new Promise<Person | undefined>((resolve) => resolve(resolver(userId))).then((person) => {
        if (resolver !== this.#resolver || !person?.name) return;
        this.#known.set(userId, person);
        this.onChange();
      }, () => {});
    }
    return this.#known.get(userId) ?? { name: userId };
  }

  /** The name alone. */
  name = (userId: string): string => this.get(userId).name;

  #reset(): void {
    this.#known.clear();
    this.onChange();
  }
}

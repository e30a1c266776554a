// Display names: the `people` attribute first, then the app's resolver (at once or later), else the user id; each
// user asked once, and a late answer announced so that the element renders it.

import { expect, it } from "vitest";
import { People, type PersonResolver } from "../../src/ui/people.js";

/** Lets every pending answer settle. */
const flush = () => new Promise((resolve) => setTimeout(resolve, 0));

it("shows the user id until the app names someone, asks once per user, and announces a late answer", async () => {
  let changes = 0;
  const people = new People(() => changes++);
  const asked: string[] = [];
  const resolver: PersonResolver = async (id) => (asked.push(id), id === "bob" ? { name: "Bob Brook", avatar: "/bob.png" } : undefined);
  people.resolver = resolver;
  changes = 0;
  expect(people.get("bob")).toEqual({ name: "bob" });
  expect(people.name("bob")).toBe("bob");
  await flush();
  expect(people.get("bob")).toEqual({ name: "Bob Brook", avatar: "/bob.png" });
  expect(changes).toBe(1);
  people.get("carol");
  await flush();
  expect(people.name("carol")).toBe("carol"); // not named: the id stays
  expect(asked).toEqual(["bob", "carol"]);
});

it("the people attribute wins over the resolver; a bad attribute or a throwing resolver leaves the ids", async () => {
  const people = new People(() => {});
  people.resolver = () => ({ name: "From the resolver" });
  people.attribute = '{"bob": {"name": "Bob from the attribute"}}';
  expect(people.name("bob")).toBe("Bob from the attribute");
  people.attribute = "not json";
  people.resolver = () => {
    throw new Error("directory down");
  };
  expect(people.name("bob")).toBe("bob");
  await flush();
  expect(people.name("bob")).toBe("bob");
});

it("a new resolver forgets the old answers, and an answer from the old one arriving late is ignored", async () => {
  const people = new People(() => {});
  let release: (value: { name: string }) => void = () => {};
  people.resolver = () => new Promise((resolve) => (release = resolve));
  people.get("bob");
  people.resolver = () => ({ name: "New" });
  release({ name: "Old" });
  await flush();
  people.get("bob");
  await flush();
  expect(people.name("bob")).toBe("New");
});
